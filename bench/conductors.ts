// Benchmark: fake-hardware nodes through manage -> provide -> deploy, driven by 1, 2 and 3
// `ironledger conductor` processes beside one API process (`serve --no-conductor`), on SQLite and on
// a throwaway PostgreSQL server (fsync and synchronous_commit on). Prints lifecycle nodes/s and the
// CPU each process spent per node lifecycle (on 2 cores, expect contention rather than speed-up:
// the per-process CPU is the figure), and the PostgreSQL server's CPU. Per store also: 1-event
// appends/s from 50 fibers of one process, the events/s all processes appended during each round,
// and the replay of each round's log through the projections (events/s).
//   node bench/conductors.ts [--nodes N] [--conductors 1,2,3]
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import * as Effect from "effect/Effect"
import { replay } from "../src/application/audit.ts"
import { parseStoreAddress, storeLayer } from "../src/cli/store.ts"
import { EventStore, type ExpectedRevision } from "../src/ports/index.ts"
import { mac, makeApi, spawnIronledger, stop, stopAll, waitForOutput, type Proc } from "../test/e2e/conductor-harness.ts"
import { startPostgres } from "../test/support/postgres-server.ts"

const { values } = parseArgs({
  options: { nodes: { type: "string", default: "60" }, conductors: { type: "string", default: "1,2,3" } },
})
const nodes = Number(values.nodes)
const counts = values.conductors!.split(",").map(Number)

/** CPU seconds of a process (and, with `reaped`, of the children it has waited for), from /proc. */
const cpuOf = (pid: number | undefined, reaped = false) => {
  if (pid === undefined) return 0
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (reaped ? [11, 12, 13, 14] : [11, 12]).reduce((sum, i) => sum + Number(fields[i]), 0) / 100
}

/** 1-event appends from 50 fibers at once, each to its own stream (as a conductor driving many nodes). */
const appendRate = (store: string) => Effect.runPromise(Effect.provide(Effect.gen(function* () {
  const events = yield* EventStore
  const fibers = 50, perFiber = 40
  const started = performance.now()
  yield* Effect.forEach(Array.from({ length: fibers }, (_, f) => f), (f) => Effect.gen(function* () {
    let expected: ExpectedRevision = "no_stream"
    for (let i = 0; i < perFiber; i++) {
      expected = (yield* events.append(`bench-append-${f}`, [{
        type: "PowerStateChanged", schemaVersion: 1, data: { i, powerState: "power on", durationMs: 1 },
        meta: { occurredAt: new Date().toISOString(), actor: "bench", correlationId: `c-${f}-${i}`, causationId: null },
      }], expected)).nextExpectedRevision
    }
  }), { concurrency: "unbounded", discard: true })
  return Math.round(fibers * perFiber / ((performance.now() - started) / 1000))
}), storeLayer(parseStoreAddress(store))))

/** The round's whole log read back through the projections: its size and events/s. */
const replayRate = (store: string) => Effect.runPromise(Effect.provide(replay, storeLayer(parseStoreAddress(store))))

const dir = mkdtempSync(join(tmpdir(), "ironledger-bench-conductors-"))
const server = await startPostgres({ settings: { fsync: "on", synchronous_commit: "on", full_page_writes: "on", shared_buffers: "128MB" } })

const round = async (store: string, label: string, conductors: number, keyFile: string) => {
  const common = ["--store", store, "--key-file", keyFile, "--state-dir", join(dir, `${label}-${conductors}`)]
  const api = spawnIronledger("serve", ["serve", ...common, "--port", "0", "--no-conductor"])
  const url = (await waitForOutput(api, /listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!
  const procs: Array<Proc> = []
  for (let c = 0; c < conductors; c++) {
    const p = spawnIronledger(`conductor c${c}`, ["conductor", ...common, "--name", `c${c}`, "--api-url", url, "--lease-ttl", "10000", "--sweep", "500"])
    await waitForOutput(p, new RegExp(`conductor c${c} driving nodes`))
    procs.push(p)
  }
  const client = makeApi(url)
  const uuids: Array<string> = []
  for (let i = 0; i < nodes; i++) uuids.push(await client.enroll(`bench-${i}`, mac(i)))
  const enrolled = (await replayRate(store)).events
  const cpuBefore = [api, ...procs].map((p) => cpuOf(p.child.pid))
  const serverBefore = cpuOf(server.pid(), true)
  const started = performance.now()
  for (const [target, settled] of [["manage", "manageable"], ["provide", "available"], ["active", "active"]] as const) {
    await Promise.all(uuids.map((u) => client.provision(u, target)))
    await client.settle(uuids, [settled], 300_000)
  }
  const seconds = (performance.now() - started) / 1000
  const cpu = [api, ...procs].map((p, i) => cpuOf(p.child.pid) - cpuBefore[i]!)
  for (const p of [api, ...procs]) await stop(p)
  const replayed = await replayRate(store)
  const lifecycleEvents = replayed.events - enrolled
  const serverCpu = label === "PostgreSQL" ? cpuOf(server.pid(), true) - serverBefore : 0
  const perNode = (s: number) => `${(s * 1000 / nodes).toFixed(1)} ms`
  console.log(`${label}, ${conductors} conductor${conductors > 1 ? "s" : ""}: ${nodes} nodes manage+provide+deploy in ${seconds.toFixed(1)} s = ${(nodes / seconds).toFixed(2)} nodes/s; ` +
    `CPU per node: API ${perNode(cpu[0]!)}, conductors ${cpu.slice(1).map(perNode).join(" / ")}` +
    (label === "PostgreSQL" ? `, server ${perNode(serverCpu)}` : "") +
    `; ${Math.round(lifecycleEvents / seconds)} events/s appended by all processes; replay of the ${replayed.events}-event log: ${replayed.eventsPerSecond} events/s`)
}

try {
  console.log(`SQLite: 50 fibers, 1-event appends: ${await appendRate(`sqlite:${join(dir, "appends.db")}`)} appends/s`)
  console.log(`PostgreSQL: 50 fibers, 1-event appends: ${await appendRate(`${server.url}?schema=bench_appends`)} appends/s`)
  for (const conductors of counts) {
    await round(`sqlite:${join(dir, `log-${conductors}.db`)}`, "SQLite", conductors, join(dir, "master.key"))
    await round(`${server.url}?schema=bench_${conductors}`, "PostgreSQL", conductors, join(dir, "master.key"))
  }
} finally {
  await stopAll()
  await server.destroy()
  rmSync(dir, { recursive: true, force: true })
}
