// Benchmark: 1-event appends to the SQLite event store (synchronous=FULL, one fsync per commit)
// from one fiber, then from many concurrent fibers each appending to its own stream (as a
// conductor driving many nodes does), back to back and then with a 1 ms timer between appends (as
// fibers woken by hardware I/O do; it shows whether group commit gathers appends made from
// separate callbacks). Prints appends/s and per-append latency for each (see ADR 0003). Its files
// live in a temp dir removed at the end, on failure and on Ctrl-C too.
//   node bench/store-concurrency.ts [--appends N] [--fibers N] [--per-fiber N] [--dir PATH]
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import * as Effect from "effect/Effect"
import { EventStore, type AppendResult, type ExpectedRevision, type NewEvent } from "../src/ports/event-store.ts"
import { makeSqliteEventStore } from "../src/adapters/eventstore/sqlite.ts"

const { values } = parseArgs({
  options: {
    // Appends by the lone fiber, then by each of the concurrent fibers.
    appends: { type: "string", default: "2000" },
    fibers: { type: "string", default: "100" },
    "per-fiber": { type: "string", default: "200" },
    // Must be on the disk being measured: a tmpfs would make fsync free.
    dir: { type: "string", default: tmpdir() },
  },
})
const appends = Number(values.appends)
const fibers = Number(values.fibers)
const perFiber = Number(values["per-fiber"])

const dir = mkdtempSync(join(values.dir, "ironledger-bench-concurrency-"))
const cleanUp = () => rmSync(dir, { recursive: true, force: true })
process.once("SIGINT", () => {
  cleanUp()
  process.exit(130)
})

const event = (i: number): NewEvent => ({
  type: "PowerStateChanged",
  schemaVersion: 1,
  data: { i, powerState: "power on", durationMs: 40 },
  meta: { occurredAt: "2026-01-01T00:00:00.000Z", actor: "bench", correlationId: `c-${i}`, causationId: null },
})

/** `count` appends of one event each to `streamId`, one after the other; returns each latency in ms. */
const appendInSequence = (store: EventStore["Service"], streamId: string, count: number, pauseMs: number) =>
  Effect.gen(function* () {
    const latencies: Array<number> = []
    let expected: ExpectedRevision = "no_stream"
    for (let i = 0; i < count; i++) {
      if (pauseMs > 0) yield* Effect.sleep(pauseMs)
      const started = performance.now()
      const result: AppendResult = yield* store.append(streamId, [event(i)], expected)
      latencies.push(performance.now() - started)
      expected = result.nextExpectedRevision
    }
    return latencies
  })

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

/** Runs `fiberCount` fibers concurrently on a fresh file, each appending `perFiber` times; prints the figures. */
const scenario = (label: string, fiberCount: number, perFiber: number, file: string, pauseMs = 0) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const started = performance.now()
    const latencies = yield* Effect.forEach(
      Array.from({ length: fiberCount }, (_, f) => f),
      (f) => appendInSequence(store, `node-${f}`, perFiber, pauseMs),
      { concurrency: "unbounded" },
    )
    const seconds = (performance.now() - started) / 1000
    const all = latencies.flat().sort((a, b) => a - b)
    const stored = (yield* store.readAll()).length
    if (stored !== all.length) throw new Error(`${label}: ${all.length} appends acknowledged, ${stored} events stored`)
    console.log(
      `${label.padEnd(22)} ${String(all.length).padStart(6)} appends in ${seconds.toFixed(2).padStart(6)} s = ` +
        `${String(Math.round(all.length / seconds)).padStart(6)} appends/s; latency p50 ${percentile(all, 0.5).toFixed(2)} ms, ` +
        `p99 ${percentile(all, 0.99).toFixed(2)} ms`,
    )
  }).pipe(Effect.provide(makeSqliteEventStore(join(dir, file))))

try {
  console.log(`SQLite event store in ${dir} (synchronous=FULL), 1-event appends`)
  await Effect.runPromise(scenario("1 fiber", 1, appends, "one.db"))
  await Effect.runPromise(scenario(`${fibers} concurrent fibers`, fibers, perFiber, "many.db"))
  await Effect.runPromise(scenario(`${fibers} fibers, 1 ms pauses`, fibers, perFiber, "paused.db", 1))
} finally {
  cleanUp()
}
