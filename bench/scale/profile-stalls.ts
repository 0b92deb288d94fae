// Reads a V8 CPU profile (node --cpu-prof) and lists the long tasks: for each function of the
// service (src/), the stretches of consecutive samples (garbage collection included) that had it on
// the stack, longer than --over ms. A stretch is one task holding the event loop, or tasks that ran
// back to back without a sampled gap; the deepest function of a stretch is the one to look at.
//   node bench/scale/profile-stalls.ts FILE.cpuprofile [--over 20] [--top 30]
import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"

interface Frame { readonly functionName: string; readonly url: string; readonly lineNumber: number }
interface ProfileNode { readonly id: number; readonly callFrame: Frame; readonly children?: ReadonlyArray<number> }
interface Profile { readonly nodes: ReadonlyArray<ProfileNode>; readonly samples: ReadonlyArray<number>; readonly timeDeltas: ReadonlyArray<number>; readonly startTime: number }

const { values, positionals } = parseArgs({ allowPositionals: true, options: { over: { type: "string", default: "20" }, top: { type: "string", default: "30" } } })
if (positionals.length !== 1) throw new Error("usage: profile-stalls.ts FILE.cpuprofile [--over MS] [--top N]")
const profile = JSON.parse(readFileSync(positionals[0]!, "utf8")) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const label = (f: Frame) => `${f.functionName || "(anonymous)"} ${(/\/(src\/.*)$/.exec(f.url)?.[1]) ?? f.url}:${f.lineNumber + 1}`
const ours = (f: Frame) => /\/src\//.test(f.url)

/** Per sample: its time (µs from the profile's start) and the src/ functions on its stack, outermost first. */
let t = 0
const samples = profile.samples.map((id, i) => {
  t += profile.timeDeltas[i] ?? 0
  const stack: Array<string> = []
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const f = byId.get(at)!.callFrame
    if (ours(f)) stack.unshift(label(f))
  }
  return { t, stack, gc: byId.get(id)!.callFrame.functionName === "(garbage collector)" }
})

interface Run { readonly fn: string; readonly depth: number; start: number; end: number }
const runs: Array<Run> = []
const open = new Map<string, Run>()
for (const s of samples) {
  if (s.gc) { for (const r of open.values()) r.end = s.t; continue }
  const here = new Set(s.stack)
  for (const [fn, r] of open) if (!here.has(fn)) { runs.push(r); open.delete(fn) }
  s.stack.forEach((fn, depth) => {
    const r = open.get(fn)
    if (r === undefined) open.set(fn, { fn, depth, start: s.t, end: s.t })
    else r.end = s.t
  })
}
runs.push(...open.values())
const overUs = Number(values.over) * 1000
const long = runs.filter((r) => r.end - r.start >= overUs)
// Of the functions spanning the same stretch, the deepest says most.
const byStretch = new Map<string, Run>()
for (const r of long) {
  const key = `${Math.round(r.start / 5000)}-${Math.round(r.end / 5000)}`
  const had = byStretch.get(key)
  if (had === undefined || r.depth > had.depth) byStretch.set(key, r)
}
const sorted = [...byStretch.values()].sort((a, b) => (b.end - b.start) - (a.end - a.start))
console.log(`${(t / 1e6).toFixed(1)} s sampled; ${sorted.length} stretches of src/ work over ${values.over} ms`)
const count = new Map<string, { n: number; longest: number }>()
for (const r of sorted) { const c = count.get(r.fn) ?? { n: 0, longest: 0 }; c.n++; c.longest = Math.max(c.longest, r.end - r.start); count.set(r.fn, c) }
console.log("\nby function: stretches, longest")
for (const [fn, c] of [...count].sort((a, b) => b[1].longest - a[1].longest).slice(0, Number(values.top))) console.log(`${String(c.n).padStart(5)} ${(c.longest / 1000).toFixed(0).padStart(6)} ms  ${fn}`)
console.log("\nlongest stretches: at s, ms, function")
for (const r of sorted.slice(0, Number(values.top))) console.log(`${(r.start / 1e6).toFixed(1).padStart(8)} ${((r.end - r.start) / 1000).toFixed(0).padStart(6)}  ${r.fn}`)
