// Reads a V8 CPU profile (node --cpu-prof) and prints where the time went: the functions with the
// most self time, and for each source folder its share (self time summed), so a profile of the
// whole service says which part to look at.   node bench/scale/profile-top.ts FILE.cpuprofile [--top 40]
import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"

interface Frame { readonly functionName: string; readonly url: string; readonly lineNumber: number }
interface ProfileNode { readonly id: number; readonly callFrame: Frame; readonly children?: ReadonlyArray<number> }
interface Profile { readonly nodes: ReadonlyArray<ProfileNode>; readonly samples: ReadonlyArray<number>; readonly timeDeltas: ReadonlyArray<number> }

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "40" }, from: { type: "string", default: "0" }, to: { type: "string", default: "1e9" } } })
if (positionals.length !== 1) throw new Error("usage: profile-top.ts FILE.cpuprofile [--top N] [--from S] [--to S]")
const profile = JSON.parse(readFileSync(positionals[0]!, "utf8")) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

// Only the samples between --from and --to seconds into the profile (a phase of a run).
const self = new Map<number, number>()
const from = Number(values.from) * 1e6, to = Number(values.to) * 1e6
let t = 0
profile.samples.forEach((id, i) => {
  t += profile.timeDeltas[i] ?? 0
  if (t >= from && t <= to) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
})
const total = [...self.values()].reduce((a, b) => a + b, 0)

const where = (f: Frame) => {
  const m = /\/(src|bench|node_modules)\/(.*)$/.exec(f.url)
  return m === null ? (f.url === "" ? "(native)" : f.url.replace(/^node:/, "node:")) : `${m[1]}/${m[2]}`
}
const label = (f: Frame) => `${f.functionName || "(anonymous)"} ${where(f)}:${f.lineNumber + 1}`

const selfByFn = new Map<string, number>()
const selfByFolder = new Map<string, number>()
/** Inclusive time per function (counted once per sample however deep it recurses). */
const inclusive = new Map<string, number>()
for (const [id, us] of self) {
  const f = byId.get(id)!.callFrame
  selfByFn.set(label(f), (selfByFn.get(label(f)) ?? 0) + us)
  const file = where(f)
  const folder = file.startsWith("src/") || file.startsWith("bench/") ? file.split("/").slice(0, -1).join("/") || file : file.startsWith("node_modules/") ? file.split("/").slice(0, 2).join("/") : file
  selfByFolder.set(folder, (selfByFolder.get(folder) ?? 0) + us)
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const l = label(byId.get(at)!.callFrame)
    if (!seen.has(l)) { seen.add(l); inclusive.set(l, (inclusive.get(l) ?? 0) + us) }
  }
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`
const top = Number(values.top)
console.log(`${(total / 1e6).toFixed(1)} s sampled`)
console.log("\nself time by function:")
for (const [l, us] of [...selfByFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${l}`)
console.log("\nself time by folder:")
for (const [l, us] of [...selfByFolder].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${l}`)
console.log("\ninclusive time (src/ functions):")
for (const [l, us] of [...inclusive].filter(([l]) => / src\//.test(l)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${l}`)
