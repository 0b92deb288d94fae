// bench:scale — the fleet-scale gate (issue 15): `ironledger serve` on SQLite with fake-hardware
// nodes in its own process pinned to core 0, this load client pinned to core 1. Server CPU is
// CPU time summed from /proc over the service's whole process tree; wall-clock figures are printed
// with the load average beside them (the host may be shared). Phases, in order:
//   lifecycles  enroll -> manage -> provide -> deploy, 64 workers polling GET every 20 ms; CPU per
//               lifecycle in windows ending at fleet sizes (--sizes); RSS after 400 and after all
//   enroll      idle nodes up to --nodes: RSS per enrolled idle node
//   sync        the idle nodes managed, then power sync observed over a few intervals
//   fairness    --fair lifecycles (default 2,000: a phase of ~25 s, long enough to hold the full
//               collections at their rate, ADR 0205) idle, under --readers clients polling (pausing
//               --read-pause-ms, default --poll-ms, after each answer), and under as many reading back to
//               back: provide/deploy settle times; read p50/p99, and the worst 5-s window's p99
//   startup     serve restarted on the same store
//   replay      bench/replay.ts: --events lifecycle events folded into the projections
// Usage: npm run bench:scale -- [--quick] [--nodes N] [--lifecycles N] [--sizes 1000,10000,20000]
//        [--window N] [--workers 64] [--readers 64] [--poll-ms 20] [--read-pause-ms 20] [--events N] [--sync-interval S]
//        [--fair N] [--cpu-prof DIR] [--heap-snapshot] [--skip sync,replay,...] [--keep DIR]
// --keep DIR keeps the store in DIR; a later run given the same DIR starts on it, its nodes counted in
// the fleet and read by the readers (e.g. --skip lifecycles,enroll,sync,startup,replay: fairness alone at full size).
import { spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { Client, percentile, pool } from "./scale/http.ts"
import { emptyTimes, enroll, lifecycle, listNodes, manage } from "./scale/lifecycle.ts"
import { lagText, loopLag, majorText } from "./scale/loop-lag.ts"
import { loadAverage, perNodeText, pinClientToCore, rssText, selfCpuSeconds, treeCpuSeconds, treeRss, type Rss } from "./scale/proc.ts"
import { startReadLoad } from "./scale/reads.ts"
import { startServer, warmCompileCache, type Server } from "./scale/server.ts"
import { observeSync } from "./scale/sync.ts"
import { Table } from "./scale/table.ts"
import { takeHeapSnapshot } from "./scale/heap-snapshot.ts"

// The client takes core 1; the server (spawned by it) is pinned to core 0.
pinClientToCore(1)

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    nodes: { type: "string" }, lifecycles: { type: "string" }, sizes: { type: "string" }, window: { type: "string" },
    workers: { type: "string", default: "64" }, readers: { type: "string", default: "64" }, "poll-ms": { type: "string", default: "20" },
    "read-pause-ms": { type: "string" },
    events: { type: "string" }, "sync-interval": { type: "string" }, fair: { type: "string" },
    "cpu-prof": { type: "string" }, "heap-snapshot": { type: "boolean", default: false }, skip: { type: "string", default: "" },
    keep: { type: "string" },
  },
})
const quick = values.quick
const num = (raw: string | undefined, full: number, small: number): number => {
  const n = raw === undefined ? (quick ? small : full) : Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a count: ${raw}`)
  return n
}
const lifecycles = num(values.lifecycles, 10_000, 1_000)
const nodes = Math.max(num(values.nodes, 100_000, 3_000), lifecycles)
const windowSize = num(values.window, 500, 200)
const sizes = (values.sizes ?? (quick ? "500,1000,2000" : "1000,10000,20000")).split(",").map(Number)
const workers = num(values.workers, 64, 64)
const readers = num(values.readers, 64, 64)
const pollMs = num(values["poll-ms"], 20, 20)
const readPauseMs = num(values["read-pause-ms"], pollMs, pollMs)
const events = num(values.events, 1_000_000, 100_000)
const syncInterval = num(values["sync-interval"], 60, 5)
const fair = num(values.fair, 2000, 300)
const skip = new Set(values.skip.split(",").filter((s) => s !== ""))

const dir = values.keep ?? mkdtempSync(join(tmpdir(), "ironledger-scale-"))
mkdirSync(dir, { recursive: true })
const db = join(dir, "log.db")
if (values["cpu-prof"] !== undefined) mkdirSync(resolve(values["cpu-prof"]), { recursive: true })
const table = new Table()
const say = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`)

/** Server CPU, client CPU, wall time and requests so far: `since` gives what was spent after it. */
const meter = (server: Server) => {
  const s0 = treeCpuSeconds(server.pid), c0 = selfCpuSeconds(), t0 = performance.now(), r0 = client.requests
  return {
    since: () => ({ serverCpuS: treeCpuSeconds(server.pid) - s0, clientCpuS: selfCpuSeconds() - c0, wallS: (performance.now() - t0) / 1000, load: loadAverage(), requests: client.requests - r0 }),
  }
}
type Spent = ReturnType<ReturnType<typeof meter>["since"]>

/** `work`'s result with what it spent (meter). */
const measured = async <A>(server: Server, work: () => Promise<A>) => {
  const m = meter(server)
  const result = await work()
  return { result, ...m.since() }
}

/** The row of one window of `n` lifecycles ending at fleet `size`. */
const windowRow = (size: number, n: number, w: Spent | undefined) => {
  const label = `  server CPU per lifecycle at fleet ${size} (last ${n})`
  if (w === undefined) return table.row(label, "?", "the window did not finish")
  table.row(label, `${(w.serverCpuS * 1000 / n).toFixed(1)} ms`,
    `${(n / w.wallS).toFixed(1)} nodes/s wall (load ${w.load}); client ${(w.clientCpuS * 1000 / n).toFixed(1)} ms; ${(w.requests / n).toFixed(1)} requests each`)
}

// The measured service starts warm, as a deployment's does after its first start (server.ts).
await warmCompileCache()
let server = await startServer({
  db, core: 0, powerSyncSeconds: syncInterval, cwd: dir,
  ...(values["cpu-prof"] === undefined ? {} : { cpuProfDir: resolve(values["cpu-prof"]) }),
  ...(values["heap-snapshot"] ? { heapSnapshots: true } : {}),
})
const client = new Client(server.url, Math.max(workers, 64))
let enrolled = 0
let failed: unknown = undefined
const ids: Array<string> = []
/** Nodes enrolled and left idle (fillers and the enroll phase): the ones power sync is run over. */
const idleIds: Array<string> = []
try {
  const rssStart = treeRss(server.pid)
  say(`serve pid ${server.pid} on ${server.url.origin}, ready in ${(server.startupMs / 1000).toFixed(1)} s; RSS ${rssText(rssStart)}; store ${db}`)
  table.row("server RSS at start", rssText(rssStart), "anon: the service's own memory; file: mapped files (Node's binary), as the OS's cache allows")
  // A store kept from an earlier run (--keep): its nodes count toward the fleet and are read by the readers.
  for (const n of await listNodes(client)) {
    ids.push(n.uuid)
    if (n.provision_state === "enroll") idleIds.push(n.uuid)
    enrolled++
  }
  if (enrolled > 0) say(`the store holds ${enrolled} nodes already`)

  if (!skip.has("lifecycles")) {
    // One pool of workers; CPU is read when the count of finished lifecycles crosses a mark.
    const inPool = sizes.filter((s) => s <= lifecycles)
    const marks = new Map<number, Array<() => void>>()
    const at = (count: number, f: () => void) => { const l = marks.get(count) ?? marks.set(count, []).get(count)!; l.push(f) }
    const windows: Array<{ size: number; from?: ReturnType<typeof meter>; spent?: Spent }> = []
    for (const size of inPool) {
      const w: (typeof windows)[number] = { size }
      windows.push(w)
      at(Math.max(0, size - windowSize), () => { w.from = meter(server) })
      at(size, () => { w.spent = w.from!.since() })
    }
    let rss400: Rss = { total: NaN, anon: NaN, file: NaN }
    at(Math.min(400, lifecycles), () => { rss400 = treeRss(server.pid) })
    for (const f of marks.get(0) ?? []) f()
    let done = 0
    const times = emptyTimes()
    const run = await measured(server, () => pool(lifecycles, workers, async (i) => {
      ids.push(await lifecycle(client, `life-${i}`, pollMs, times))
      enrolled++
      done++
      for (const f of marks.get(done) ?? []) f()
      if (done % 1000 === 0) say(`${done} lifecycles`)
    }))
    const rssActive = treeRss(server.pid)
    table.row(`lifecycles: ${lifecycles} through the API, ${workers} workers, GET every ${pollMs} ms`,
      `${(lifecycles / run.wallS).toFixed(1)} nodes/s`, `wall ${run.wallS.toFixed(0)} s, load ${run.load}; goal >= 150`)
    table.row("  server CPU per lifecycle (whole run)", `${(run.serverCpuS * 1000 / lifecycles).toFixed(1)} ms`, `client ${(run.clientCpuS * 1000 / lifecycles).toFixed(1)} ms; ${(run.requests / lifecycles).toFixed(1)} requests each; goal <= 5 ms`)
    for (const w of windows) windowRow(w.size, Math.min(windowSize, w.size), w.spent)
    for (const step of ["enroll", "manage", "provide", "deploy"] as const) {
      table.row(`  ${step} (request to settled)`, `p50 ${percentile(times[step], 50).toFixed(0)} ms  p99 ${percentile(times[step], 99).toFixed(0)} ms`, "wall")
    }
    table.row(`server RSS after ${Math.min(400, lifecycles)} lifecycles`, rssText(rss400), "goal <= 150 MiB")
    table.row(`server RSS with ${lifecycles} active nodes`, rssText(rssActive),
      `${perNodeText(rssStart, rssActive, lifecycles, 1, "per active node above start")}; goal <= 200 MiB`)
    if (values["heap-snapshot"]) say(`heap snapshot with ${lifecycles} active nodes: ${await takeHeapSnapshot(server.pid, dir)}`)

    // Fleet sizes beyond the lifecycles: idle nodes first, then a window of lifecycles.
    for (const size of sizes.filter((s) => s > lifecycles)) {
      const fill = Math.max(0, size - windowSize - enrolled)
      say(`enrolling ${fill} idle nodes to reach fleet ${size}`)
      const base = enrolled
      await pool(fill, workers, async (i) => { const id = await enroll(client, `idle-${base + i}`); ids.push(id); idleIds.push(id); enrolled++ })
      windowRow(size, windowSize, await measured(server, () => pool(windowSize, workers, async (i) => { ids.push(await lifecycle(client, `life-${size}-${i}`, pollMs)); enrolled++ })))
    }
  }

  const idleFrom = enrolled
  if (!skip.has("enroll") && nodes > enrolled) {
    const rss0 = treeRss(server.pid)
    const count = nodes - enrolled
    const e = await measured(server, () => pool(count, workers, async (i) => {
      const id = await enroll(client, `idle-${idleFrom + i}`)
      ids.push(id)
      idleIds.push(id)
      enrolled++
      if (enrolled % 10_000 === 0) say(`${enrolled} nodes enrolled`)
    }))
    await new Promise((w) => setTimeout(w, 2000))
    const rss1 = treeRss(server.pid)
    table.row(`enroll ${count} idle nodes (POST /v1/nodes, ${workers} at once)`, `${(count / e.wallS).toFixed(0)} nodes/s`,
      `server CPU ${(e.serverCpuS * 1000 / count).toFixed(2)} ms per enroll; wall ${e.wallS.toFixed(0)} s, load ${e.load}`)
    table.row(`server RSS with ${enrolled} nodes`, rssText(rss1),
      `${perNodeText(rss0, rss1, count, 2, "per enrolled idle node")}; goal <= 4 KiB, < 1 GiB at 100k`)
  }

  if (!skip.has("sync")) {
    // Nodes in enroll are not synced (as Ironic): manage the idle ones first.
    const idle = idleIds
    say(`managing ${idle.length} idle nodes for power sync`)
    const m = await measured(server, () => pool(idle.length, workers, (i) => manage(client, idle[i]!, 200)))
    table.row(`manage ${idle.length} idle nodes`, `${(idle.length / m.wallS).toFixed(0)} nodes/s`, `server CPU ${(m.serverCpuS * 1000 / Math.max(1, idle.length)).toFixed(2)} ms per node`)
    say(`observing power sync over ${enrolled} nodes, interval ${syncInterval} s`)
    await loopLag(client)
    const s = await observeSync(server.pid, syncInterval, 3)
    const syncLag = await loopLag(client)
    table.row(`power sync over ${enrolled} nodes, every ${syncInterval} s`, `${s.cpuPerIntervalS.toFixed(2)} s CPU per interval`,
      `${(s.cpuPerIntervalS * 1e6 / Math.max(1, enrolled)).toFixed(1)} us per node; the idle service's whole CPU, the pass spread over the interval; busiest second ${(s.peakCoreShare * 100).toFixed(0)} % of a core (load ${loadAverage()})`)
    table.row(`  server event-loop delay over those ${3 * syncInterval} s`, lagText(syncLag), `longest stall of the loop while power sync runs; ${majorText(syncLag)}`)
  }

  if (!skip.has("fairness")) {
    const fairWorkers = 8
    const readGoalMs = 20
    const stepRun = async (label: string) => {
      const times = emptyTimes()
      const base = enrolled
      // A lifecycle that fails or times out here is counted, not fatal: starvation is what this phase measures.
      let failures = 0
      await loopLag(client)
      const r = await measured(server, () => pool(fair, fairWorkers, async (i) => {
        try {
          ids.push(await lifecycle(client, `${label}-${base + i}`, pollMs, times))
        } catch (e) {
          if (failures++ === 0) say(`${label}: ${(e as Error).message}`)
        }
        enrolled++
      }))
      return { times, failures, lag: await loopLag(client), ...r }
    }
    /** `fair` lifecycles while `readers` read, each pausing `pauseMs` after an answer. */
    const underReaders = async (label: string, pauseMs: number) => {
      say(`fairness: ${fair} lifecycles under ${readers} readers, ${pauseMs === 0 ? "back to back" : `each pausing ${pauseMs} ms`}`)
      const load = startReadLoad(server.url, readers, ids, 100, pauseMs, readGoalMs)
      let run: Awaited<ReturnType<typeof stepRun>>
      try {
        await load.started
        run = await stepRun(label)
      } catch (e) {
        await load.stop().catch(() => undefined)
        throw e
      }
      return { ...run, reads: await load.stop() }
    }
    say(`fairness: ${fair} lifecycles idle`)
    const idle = await stepRun("fair-idle")
    // The goal's load polls as operators' tools do (the --poll-ms of the lifecycle workers); the
    // back-to-back one takes whatever the service can give, so its read latency is 64 / reads per second.
    const loads = [
      { name: `${readers} readers polling every ${readPauseMs} ms`, run: await underReaders("fair-busy", readPauseMs), goal: true },
      { name: `${readers} readers back to back`, run: await underReaders("fair-flood", 0), goal: false },
    ]
    for (const { name, run, goal } of loads) {
      for (const step of ["provide", "deploy"] as const) {
        const i99 = percentile(idle.times[step], 99), b99 = percentile(run.times[step], 99)
        table.row(`${step} settle, ${fairWorkers} workers: idle / under ${name}`,
          `p50 ${percentile(idle.times[step], 50).toFixed(0)}/${percentile(run.times[step], 50).toFixed(0)} ms  p99 ${i99.toFixed(0)}/${b99.toFixed(0)} ms`,
          `x${(b99 / i99).toFixed(1)} at p99${goal ? "; goal <= 3" : ""}; ${idle.failures}/${run.failures} lifecycles failed; wall (load ${run.load})`)
      }
      table.row(`  reads: GET node / GET /v1/nodes?limit=100`, `p99 ${run.reads.getP99.toFixed(1)} / ${run.reads.listP99.toFixed(1)} ms`,
        `p50 ${run.reads.getP50.toFixed(1)} / ${run.reads.listP50.toFixed(1)} ms; ${(run.reads.requests / run.wallS).toFixed(0)} reads/s, ${run.reads.errors} errors; the readers' own loop delay p99 ${run.reads.clientLoop.p99Ms.toFixed(1)} ms, max ${run.reads.clientLoop.maxMs.toFixed(0)} ms${goal ? `; goal p99 <= ${readGoalMs} ms` : ""}`)
      const b = run.reads.bursts
      table.row(`  reads over ${readGoalMs} ms`, `${b.slow} in ${b.bursts} bursts`,
        `the largest ${b.largest.reads} reads in ${b.largest.spanMs.toFixed(0)} ms, the slowest ${b.largest.maxMs.toFixed(0)} ms; p99 is the slowest ${Math.floor(run.reads.requests / 100)}; ` +
          `the worst of ${run.reads.worstWindow.windows} 5-s windows: p99 ${run.reads.worstWindow.ms.toFixed(1)} ms`)
      table.row(`  server event-loop delay: idle / under readers`, `${lagText(idle.lag)} / ${lagText(run.lag)}`,
        `longest stall of the loop during each run (monitorEventLoopDelay); a stall delays every step at once. Idle: ${majorText(idle.lag)}; under readers: ${majorText(run.lag)} (their marking shares the core)`)
      table.row(`  server / client CPU share of wall time`,
        `${(run.serverCpuS / run.wallS * 100).toFixed(0)} / ${(run.clientCpuS / run.wallS * 100).toFixed(0)} %`,
        `over ${run.wallS.toFixed(1)} s; a server below 100 % of its core waits rather than works`)
    }
  }

  if (!skip.has("startup")) {
    await server.stop()
    server = await startServer({ db, core: 0, powerSyncSeconds: syncInterval, cwd: dir })
    table.row(`start-up of serve with ${enrolled} nodes in the store`, `${(server.startupMs / 1000).toFixed(1)} s`,
      `to the first answered request; RSS ${rssText(treeRss(server.pid))}; wall, load ${loadAverage()}; goal <= 5 s`)
  }
} catch (e) {
  failed = e
  console.error(`bench:scale failed: ${(e as Error)?.stack ?? String(e)}\nserver's last words:\n${server.tail()}`)
} finally {
  client.close()
  await server.stop()
}

if (!skip.has("replay") && failed === undefined) {
  // bench:replay's replay measurement (bench/replay-timer.ts, the one replay timer): a log of --events
  // lifecycle events over up to 10,000 nodes, generated with the domain's decide/evolve. On every core,
  // as a rebuild runs (this client idles meanwhile): the store reads the log ahead on a second (ADR 0208).
  const replayNodes = Math.max(1, Math.min(10_000, Math.floor(events / 100)))
  say(`replay: bench/replay.ts with ${events} events over ${replayNodes} nodes`)
  const out = await new Promise<string>((done, fail) => {
    const child = spawn("taskset", ["-c", `0-${cpus().length - 1}`, process.execPath, resolve(import.meta.dirname, "replay.ts"), "--only", "replay",
      "--events", String(events), "--nodes", String(replayNodes), "--dir", join(dir, "replay"), "--keep"], { stdio: ["ignore", "pipe", "inherit"] })
    let text = ""
    child.stdout.on("data", (d: Buffer) => { text += d.toString() })
    child.on("exit", (code) => (code === 0 ? done(text) : fail(new Error(`bench/replay.ts exited ${code}: ${text}`))))
  })
  const line = out.split("\n").find((l) => l.startsWith("result: ") && l.includes(`"measurement":"replay"`))
  const r = line === undefined ? undefined : JSON.parse(line.slice("result: ".length)) as Record<string, number>
  table.row(`replay of ${r?.["events"] ?? events} events into the projections`,
    r === undefined ? "?" : `${r["replayEventsPerSecWall"]!.toLocaleString("en")} events/s`,
    r === undefined ? "" : `wall; ${r["replayEventsPerSecCpu"]!.toLocaleString("en")} events/s of CPU; load ${loadAverage()}; goal >= 400,000`)
}

if (values["cpu-prof"] !== undefined) say(`CPU profiles: ${readdirSync(resolve(values["cpu-prof"])).join(", ")}`)
if (values.keep === undefined) rmSync(dir, { recursive: true, force: true })
console.log(table.render(`bench:scale — ${enrolled} nodes, ${lifecycles} lifecycles, ${workers} workers; server pinned to core 0, client to core 1; CPU from /proc (utime+stime of the service's tree)`))
if (failed !== undefined) process.exitCode = 1
