// Benchmark: the read model at fleet scale. Prints, with CPU time beside wall time (a shared machine's
// load stretches wall time, not CPU):
// - replay: `--events` lifecycle events over `--nodes` nodes folded into a fresh Fleet (events/s),
//   and the store's share of it (reading the pages alone);
// - memory: the projection's RSS and heap per node after that replay (active nodes) and, in a
//   fresh process, per idle node restored from the checkpoint;
// - start-up: `--idle` enrolled, available nodes in the store: the application assembled (the fleet
//   from its checkpoint, caught up, the conductor's first sweep) in a fresh process.
//   npm run bench:replay [-- --events N --nodes N --idle N --dir DIR --keep --only replay,checkpoint,restore,startup]
// `--dir` holds the generated logs (replay.sqlite, idle.sqlite); with `--keep` they stay there and a
// later run reuses them. One line of JSON per figure is printed after `result:` for harnesses.
import { spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { makeSqliteEventStore } from "../src/adapters/eventstore/sqlite.ts"
import { RandomIds } from "../src/adapters/system/ids.ts"
import { SecretsWithKey } from "../src/adapters/system/secrets.ts"
import { defaultApplicationConfig } from "../src/application/live.ts"
import { Fleet } from "../src/application/projections/fleet.ts"
import { catchUpAll, loadFleet } from "../src/application/projections/projector.ts"
import { fleetCheckpoint, saveFleet } from "../src/application/projections/fleet-checkpoints.ts"
import { compose, type Services } from "../src/cli/compose.ts"
import { simulatedHardware } from "../src/cli/hardware.ts"
import { CheckpointStore, EventStore } from "../src/ports/index.ts"
import { eventsOf, writeLog } from "./lifecycle-log.ts"
import { timeReplay } from "./replay-timer.ts"
import { evolve, initialState, type Uuid } from "../src/domain/index.ts"
import { decodeEvent } from "../src/domain/persisted.ts"
import * as E from "fp-ts/lib/Either.js"

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    nodes: { type: "string", default: "10000" },
    idle: { type: "string", default: "100000" },
    dir: { type: "string" },
    keep: { type: "boolean", default: false },
    /** Only these measurements (bench:scale asks for the replay alone). */
    only: { type: "string", default: "replay,checkpoint,restore,startup" },
    /** Internal: run one measurement in this (fresh) process and print its JSON. */
    child: { type: "string" },
    db: { type: "string" },
  },
})

const mb = (bytes: number) => Math.round(bytes / 2 ** 20)
const cpuMs = (since?: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(since)
  return (c.user + c.system) / 1000
}
/** Runs `work`, returning its result with wall and CPU milliseconds. */
const timed = async <A>(work: () => Promise<A>) => {
  const wall = performance.now()
  const cpu = process.cpuUsage()
  const result = await work()
  return { result, wallMs: performance.now() - wall, cpuMs: cpuMs(cpu) }
}
const settleHeap = () => {
  // With --expose-gc (the child processes have it): a full collection, so RSS is what is kept.
  for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc?.()
}
const memory = () => {
  settleHeap()
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external + m.arrayBuffers }
}

const storeOf = (path: string) => makeSqliteEventStore(path)
const runWith = <A, E>(path: string, eff: Effect.Effect<A, E, EventStore | CheckpointStore>) =>
  Effect.runPromise(Effect.provide(eff, storeOf(path)) as Effect.Effect<A, unknown>)

/** Events from enroll to available of one node (enroll, port, manage, verify, provide, clean). */
const idleLength = (() => {
  const id = "00000000-0000-4000-8000-000000000000" as Uuid
  let s = initialState(id)
  let n = 0
  for (const e of eventsOf(id, 64)) {
    const decoded = decodeEvent(e)
    if (E.isLeft(decoded)) throw new Error(decoded.left)
    s = evolve(s, decoded.right, e.meta)
    n++
    if (s.provisionState === "available" && s.pendingSteps.length === 0) return n
  }
  throw new Error("the lifecycle never reaches available")
})()

// --- the measurements, each in a fresh process (so one's garbage is not the next one's RSS) ---

/** Folds the whole log into a fresh Fleet (bench/replay-timer.ts), after a read-only pass. */
const childReplay = async (db: string) => {
  const before = memory()
  const read = await timed(() => runWith(db, Effect.gen(function* () {
    const store = yield* EventStore
    let count = 0
    for (let after = -1; ;) {
      const page = yield* store.readAll({ after, limit: 20_000 })
      if (page.length === 0) return count
      count += page.length
      after = page[page.length - 1]!.position
    }
  })))
  const { figures, fleet } = await runWith(db, timeReplay)
  const after = memory()
  const nodes = fleet.nodes.size
  return {
    ...figures,
    readEventsPerSecWall: Math.round(read.result / (read.wallMs / 1000)), readEventsPerSecCpu: Math.round(read.result / (read.cpuMs / 1000)),
    activeBytesPerNodeRss: Math.round((after.rss - before.rss) / nodes), activeBytesPerNodeHeap: Math.round((after.heapUsed - before.heapUsed) / nodes),
    rssMb: mb(after.rss),
  }
}

/** The checkpoint written from a full replay: how long the fold, the save and its size. */
const childCheckpoint = async (db: string) => {
  const fold = await timed(() => runWith(db, Effect.gen(function* () {
    const fleet = new Fleet()
    yield* catchUpAll(fleet)
    return fleet
  })))
  const save = await timed(() => runWith(db, saveFleet(fold.result)))
  const size = await runWith(db, Effect.gen(function* () {
    const saved = yield* (yield* CheckpointStore).load(fleetCheckpoint)
    return saved._tag === "Some" ? saved.value.state.length : 0
  }))
  return {
    nodes: fold.result.nodes.size, foldWallMs: Math.round(fold.wallMs), foldCpuMs: Math.round(fold.cpuMs),
    saveWallMs: Math.round(save.wallMs), saveCpuMs: Math.round(save.cpuMs), checkpointMb: +(size / 2 ** 20).toFixed(1),
  }
}

/** The fleet restored from its checkpoint alone, and its memory per idle node. */
const childRestore = async (db: string) => {
  const before = memory()
  const load = await timed(() => runWith(db, loadFleet))
  const after = memory()
  const nodes = load.result.nodes.size
  return {
    nodes, loadWallMs: Math.round(load.wallMs), loadCpuMs: Math.round(load.cpuMs),
    idleBytesPerNodeRss: Math.round((after.rss - before.rss) / nodes), idleBytesPerNodeHeap: Math.round((after.heapUsed - before.heapUsed) / nodes),
    peakRssMb: mb(process.resourceUsage().maxRSS * 1024), rssMb: mb(after.rss),
  }
}

/** The application as serve and conductor assemble it over the store, up to its first sweep. */
const childStartup = async (db: string) => {
  const startup = await timed(async () => {
    const composed = await compose({
      services: Layer.mergeAll(storeOf(db), RandomIds, SecretsWithKey(randomBytes(32))) as Layer.Layer<Services>,
      hardware: simulatedHardware({}),
      config: defaultApplicationConfig,
    })
    await composed.run(composed.app.conductor.settle)
    return composed
  })
  const nodes = startup.result.app.fleet.nodes.size
  const after = memory()
  await startup.result.close()
  return { nodes, startupWallMs: Math.round(startup.wallMs), startupCpuMs: Math.round(startup.cpuMs), rssMb: mb(after.rss) }
}

const children: Record<string, (db: string) => Promise<unknown>> = {
  replay: childReplay, checkpoint: childCheckpoint, restore: childRestore, startup: childStartup,
}

if (values.child !== undefined) {
  const measure = children[values.child]
  if (measure === undefined || values.db === undefined) throw new Error(`unknown measurement ${values.child}`)
  console.log(JSON.stringify(await measure(values.db)))
  process.exit(0)
}

const inChild = (name: string, db: string): Record<string, number> => {
  const out = spawnSync(process.execPath, ["--expose-gc", "--max-old-space-size=4096", import.meta.filename, "--child", name, "--db", db], {
    encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20,
  })
  if (out.status !== 0) throw new Error(`${name} failed (exit ${out.status})`)
  const figures = JSON.parse(out.stdout.trim().split("\n").pop()!) as Record<string, number>
  console.log(`result: ${JSON.stringify({ measurement: name, ...figures })}`)
  return figures
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(" ")
const dir = values.dir ?? mkdtempSync(join(tmpdir(), "ironledger-replay-"))
mkdirSync(dir, { recursive: true })
try {
  const events = Number(values.events)
  const nodes = Number(values.nodes)
  const idle = Number(values.idle)
  const replayDb = join(dir, `replay-${events}-${nodes}.sqlite`)
  const idleDb = join(dir, `idle-${idle}.sqlite`)
  const only = new Set(values.only.split(","))
  const idleWanted = ["checkpoint", "restore", "startup"].some((m) => only.has(m))
  for (const [db, count, perNode] of [[replayDb, nodes, Math.ceil(events / nodes)], [idleDb, idle, idleLength]] as const) {
    if (existsSync(db) || (db === idleDb && !idleWanted) || (db === replayDb && !only.has("replay"))) continue
    const t = await timed(() => runWith(db, writeLog(count, perNode, 10)))
    console.log(`generated ${db}: ${t.result} events over ${count} nodes in ${(t.wallMs / 1000).toFixed(0)} s, ${mb(statSync(db).size)} MiB`)
  }
  // CPU compares the code's cost run to run on a shared host; wall is a rebuild's time, which reads the
  // log ahead on a second core where there is one (ADR 0208), so its CPU exceeds its wall time.
  console.log(`load average before: ${load()} (2 cores shared: CPU compares code, wall is the rebuild's time)`)
  if (only.has("replay")) {
    const r = inChild("replay", replayDb)
    console.log(`replay: ${r["events"]} events into ${r["nodes"]} nodes: ${r["replayEventsPerSecWall"]} events/s wall, ` +
      `${r["replayEventsPerSecCpu"]} events/s of CPU (runs ${r["replayWallMs"]} ms wall, ${r["replayCpuMs"]} ms CPU); ` +
      `store read alone ${r["readEventsPerSecCpu"]} events/s of CPU`)
    console.log(`active nodes: ${r["activeBytesPerNodeRss"]} B RSS, ${r["activeBytesPerNodeHeap"]} B heap per node; process RSS ${r["rssMb"]} MB`)
  }
  if (only.has("checkpoint")) {
    const c = inChild("checkpoint", idleDb)
    console.log(`idle fleet of ${c["nodes"]} nodes (${idleLength} events each): fold ${c["foldCpuMs"]} ms CPU (${c["foldWallMs"]} wall), ` +
      `checkpoint save ${c["saveCpuMs"]} ms CPU (${c["saveWallMs"]} wall), ${c["checkpointMb"]} MiB`)
  }
  if (only.has("restore")) {
    const s = inChild("restore", idleDb)
    console.log(`restore from checkpoint: ${s["loadCpuMs"]} ms CPU (${s["loadWallMs"]} wall); idle nodes: ${s["idleBytesPerNodeRss"]} B RSS, ` +
      `${s["idleBytesPerNodeHeap"]} B heap per node; process RSS ${s["rssMb"]} MB (peak ${s["peakRssMb"]} MB)`)
  }
  if (only.has("startup")) {
    const u = inChild("startup", idleDb)
    console.log(`start-up of the application over ${u["nodes"]} nodes: ${u["startupCpuMs"]} ms CPU (${u["startupWallMs"]} ms wall); RSS ${u["rssMb"]} MB`)
  }
  console.log(`load average after: ${load()}`)
} finally {
  if (!values.keep && values.dir === undefined) rmSync(dir, { recursive: true, force: true })
}
