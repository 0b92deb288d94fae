// Reads a V8 CPU profile (node --cpu-prof) and lists the longest tasks: stretches of samples with
// JavaScript (or garbage collection) on the stack between two samples of the event loop itself
// ("(program)", "(idle)"). Each is a stretch that held the loop; for each, the functions with most
// self time and the service's (src/) functions with most inclusive time say what it was.
//   node bench/scale/profile-stalls.ts FILE.cpuprofile [--top 12] [--from S] [--to S]
import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"

interface Frame { readonly functionName: string; readonly url: string; readonly lineNumber: number }
interface ProfileNode { readonly id: number; readonly callFrame: Frame; readonly children?: ReadonlyArray<number> }
interface Profile { readonly nodes: ReadonlyArray<ProfileNode>; readonly samples: ReadonlyArray<number>; readonly timeDeltas: ReadonlyArray<number> }

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "12" }, from: { type: "string", default: "0" }, to: { type: "string", default: "1e9" } } })
if (positionals.length !== 1) throw new Error("usage: profile-stalls.ts FILE.cpuprofile [--top N] [--from S] [--to S]")
const profile = JSON.parse(readFileSync(positionals[0]!, "utf8")) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const label = (f: Frame) => `${f.functionName || "(anonymous)"} ${(/\/((src|node_modules)\/.*)$/.exec(f.url)?.[1]) ?? f.url}:${f.lineNumber + 1}`
const loopItself = new Set(["(program)", "(idle)", "(root)"])

interface Task { readonly start: number; end: number; readonly self: Map<string, number>; readonly inclusive: Map<string, number> }
const tasks: Array<Task> = []
let current: Task | null = null
const from = Number(values.from) * 1e6, to = Number(values.to) * 1e6
let t = 0
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0
  t += dt
  if (t < from || t > to) return
  const frame = byId.get(id)!.callFrame
  if (loopItself.has(frame.functionName)) { if (current !== null) tasks.push(current); current = null; return }
  current ??= { start: t, end: t, self: new Map(), inclusive: new Map() }
  current.end = t
  current.self.set(label(frame), (current.self.get(label(frame)) ?? 0) + dt)
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const f = byId.get(at)!.callFrame
    if (!/\/src\//.test(f.url) || seen.has(label(f))) continue
    seen.add(label(f))
    current.inclusive.set(label(f), (current.inclusive.get(label(f)) ?? 0) + dt)
  }
})
if (current !== null) tasks.push(current)
const ms = (us: number) => (us / 1000).toFixed(0)
const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([l, us]) => `${l} ${ms(us)}`).join(" | ")
tasks.sort((a, b) => (b.end - b.start) - (a.end - a.start))
console.log(`${(t / 1e6).toFixed(1)} s sampled; ${tasks.filter((k) => k.end - k.start >= 20_000).length} tasks of 20 ms or more`)
for (const k of tasks.slice(0, Number(values.top))) {
  console.log(`\nat ${(k.start / 1e6).toFixed(2)} s: ${ms(k.end - k.start)} ms`)
  console.log(`  self: ${top(k.self, 5)}`)
  console.log(`  src/ inclusive: ${top(k.inclusive, 8)}`)
}
