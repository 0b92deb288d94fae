// Benchmark: the PostgreSQL event store next to SQLite on the same machine and disk. Starts a
// throwaway PostgreSQL server with durable settings (fsync, synchronous_commit on, as in
// production), then for each store: 1-event appends from one fiber, from many fibers at once
// (each to its own stream, as a conductor driving many nodes), and a bulk load followed by a
// replay through the projections (bench/store.ts), and fake-hardware nodes through their whole
// lifecycle (bench/fleet.ts). Prints appends/s, replay events/s, lifecycle nodes/s and CPU.
//   node bench/store-postgres.ts [--appends N] [--fibers N] [--per-fiber N] [--events N] [--nodes N] [--fleet N]
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import { EventStore, type ExpectedRevision, type NewEvent, type StoreUnavailable } from "../src/ports/event-store.ts"
import { makePostgresEventStore } from "../src/adapters/eventstore/postgres.ts"
import { makeSqliteEventStore } from "../src/adapters/eventstore/sqlite.ts"
import { startPostgres } from "../test/support/postgres-server.ts"

const { values } = parseArgs({
  options: {
    appends: { type: "string", default: "1000" },
    fibers: { type: "string", default: "50" },
    "per-fiber": { type: "string", default: "100" },
    events: { type: "string", default: "200000" },
    nodes: { type: "string", default: "2000" },
    fleet: { type: "string", default: "200" },
  },
})

const event = (i: number): NewEvent => ({
  type: "PowerStateChanged", schemaVersion: 1, data: { i, powerState: "power on", durationMs: 40 },
  meta: { occurredAt: "2026-01-01T00:00:00.000Z", actor: "bench", correlationId: `c-${i}`, causationId: null },
})

const appendInSequence = (store: EventStore["Service"], streamId: string, count: number) =>
  Effect.gen(function* () {
    let expected: ExpectedRevision = "no_stream"
    for (let i = 0; i < count; i++) expected = (yield* store.append(streamId, [event(i)], expected)).nextExpectedRevision
  })

const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }

const measure = async (label: string, layer: Layer.Layer<EventStore, StoreUnavailable>) => {
  const appends = Number(values.appends), fibers = Number(values.fibers), perFiber = Number(values["per-fiber"])
  await Effect.runPromise(Effect.provide(Effect.gen(function* () {
    const store = yield* EventStore
    let t = performance.now(), cpu = cpuSeconds()
    yield* appendInSequence(store, "bench-sequential", appends)
    let s = (performance.now() - t) / 1000
    console.log(`${label}: 1 fiber: ${Math.round(appends / s)} appends/s (${(s * 1000 / appends).toFixed(2)} ms each, ${((cpuSeconds() - cpu) * 1e6 / appends).toFixed(0)} us CPU each in this process)`)
    t = performance.now(); cpu = cpuSeconds()
    yield* Effect.forEach(Array.from({ length: fibers }, (_, f) => f), (f) => appendInSequence(store, `bench-fiber-${f}`, perFiber), { concurrency: "unbounded", discard: true })
    s = (performance.now() - t) / 1000
    console.log(`${label}: ${fibers} fibers: ${Math.round(fibers * perFiber / s)} appends/s (${((cpuSeconds() - cpu) * 1e6 / (fibers * perFiber)).toFixed(0)} us CPU each in this process)`)
  }), layer))
}

const bulk = (label: string, store: string | undefined) => {
  console.log(`${label}: bulk load and replay (bench/store.ts --events ${values.events} --nodes ${values.nodes})`)
  const out = execFileSync(process.execPath, [join(import.meta.dirname, "store.ts"), "--events", values.events!, "--nodes", values.nodes!,
    ...(store === undefined ? [] : ["--store", store])], { encoding: "utf8" })
  for (const line of out.split("\n")) if (/^(append|read|replay):/.test(line)) console.log(`  ${line}`)
}

/** CPU seconds the server has used: the postmaster and every backend it has reaped (Linux /proc). */
const serverCpu = (pid: number | undefined) => {
  if (pid === undefined) return 0
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  // utime, stime, cutime, cstime are fields 14-17 of stat; [0] here is field 3.
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / 100
}

const fleet = (label: string, store: string | undefined) => {
  console.log(`${label}: ${values.fleet} fake-hardware nodes through their lifecycle, one process (bench/fleet.ts)`)
  const out = execFileSync(process.execPath, [join(import.meta.dirname, "fleet.ts"), "--nodes", values.fleet!,
    ...(store === undefined ? [] : ["--store", store])], { encoding: "utf8" })
  for (const line of out.split("\n")) if (/nodes on|^cpu|^events/.test(line)) console.log(`  ${line}`)
}

const dir = mkdtempSync(join(tmpdir(), "ironledger-bench-pg-"))
const server = await startPostgres({ settings: { fsync: "on", synchronous_commit: "on", full_page_writes: "on", shared_buffers: "128MB" } })
try {
  console.log(`PostgreSQL (fsync on, synchronous_commit on) vs SQLite (WAL, synchronous=FULL), temp dirs on the same disk`)
  await measure("SQLite", makeSqliteEventStore(join(dir, "bench.sqlite")))
  await measure("PostgreSQL", makePostgresEventStore(server.url, { schema: "bench_appends" }))
  bulk("SQLite", undefined)
  bulk("PostgreSQL", `${server.url}?schema=bench_bulk`)
  fleet("SQLite", undefined)
  const before = serverCpu(server.pid())
  fleet("PostgreSQL", `${server.url}?schema=bench_fleet`)
  // The bench's connections are closed, so their backends have been reaped into the postmaster's count.
  console.log(`  PostgreSQL server: ${(serverCpu(server.pid()) - before).toFixed(1)} s CPU for the fleet run, ${((serverCpu(server.pid()) - before) * 1000 / Number(values.fleet)).toFixed(1)} ms per node lifecycle`)
} finally {
  await server.destroy()
  rmSync(dir, { recursive: true, force: true })
}
