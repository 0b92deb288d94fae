// A second process for event-store.sqlite.test.ts: opens the same SQLite file and appends, so the
// tests see what really happens across processes. Writes one JSON line per step to stdout.
//   append <db> <stream> <count>          append <count> events with "any", report, exit
//   append-forever <db> <stream> <batch>  append batches at the expected revision until killed
//   append-concurrently <db> <fibers> <batch>
//                                         as append-forever, from <fibers> fibers at once, each
//                                         to its own stream node-k-<fiber> (group commit)
//   race <db> <label> <rounds>            say "ready", wait for "go" on stdin, then append to
//                                         race-<round> at expected revision 0, report each round
import { createInterface } from "node:readline"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { EventStore, type AppendResult, type NewEvent } from "../../src/ports/event-store.ts"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"

const [mode, dbPath, arg1, arg2] = process.argv.slice(2)
if (mode === undefined || dbPath === undefined || arg1 === undefined || arg2 === undefined) {
  process.stderr.write("usage: event-store.child.ts append|append-forever|append-concurrently|race <db> <arg> <arg>\n")
  process.exit(2)
}

const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`)

const event = (type: string, data: unknown): NewEvent => ({
  type,
  schemaVersion: 1,
  data,
  meta: { occurredAt: new Date().toISOString(), actor: `pid-${process.pid}`, correlationId: "c", causationId: null },
})

const stdinLine = (expected: string) =>
  Effect.callback<void>((resume) => {
    const lines = createInterface({ input: process.stdin })
    lines.on("line", (line) => {
      if (line.trim() === expected) {
        lines.close()
        resume(Effect.void)
      }
    })
  })

/** Appends batches to `streamId`, each at the revision the previous one returned, until killed. */
const appendForever = (store: EventStore["Service"], streamId: string, batch: number, acked: (revision: number) => void) =>
  Effect.gen(function* () {
    let expected: "no_stream" | number = "no_stream"
    for (let round = 0; ; round++) {
      const events = Array.from({ length: batch }, (_, i) => event("BatchMember", { round, i }))
      const result: AppendResult = yield* store.append(streamId, events, expected)
      expected = result.nextExpectedRevision
      acked(result.nextExpectedRevision)
    }
  })

const programs: Record<string, Effect.Effect<void, unknown, EventStore>> = {
  append: EventStore.use((store) =>
    Effect.gen(function* () {
      const count = Number(arg2)
      const before = (yield* store.readStream(arg1)).length
      const events = Array.from({ length: count }, (_, i) => event("ChildAppended", { i }))
      const result = yield* store.append(arg1, events, "any")
      say({ before, ...result })
    })),
  "append-forever": EventStore.use((store) => appendForever(store, arg1, Number(arg2), (acked) => say({ acked }))),
  "append-concurrently": EventStore.use((store) =>
    Effect.forEach(
      Array.from({ length: Number(arg1) }, (_, fiber) => fiber),
      (fiber) => appendForever(store, `node-k-${fiber}`, Number(arg2), (acked) => say({ fiber, acked })),
      { concurrency: "unbounded", discard: true },
    )),
  race: EventStore.use((store) =>
    Effect.gen(function* () {
      say({ ready: true })
      yield* stdinLine("go")
      for (let round = 0; round < Number(arg2); round++) {
        const events = [event("RaceWon", { by: arg1, round }), event("RaceWonToo", { by: arg1, round })]
        const outcome = yield* Effect.result(store.append(`race-${round}`, events, 0))
        say(
          outcome._tag === "Success"
            ? { round, won: true }
            : { round, won: false, error: outcome.failure._tag, actual: "actual" in outcome.failure ? outcome.failure.actual : null },
        )
      }
    })),
}

const program = programs[mode]
if (program === undefined) {
  process.stderr.write(`unknown mode ${mode}\n`)
  process.exit(2)
}
const layer: Layer.Layer<EventStore, unknown> = makeSqliteEventStore(dbPath, { busyTimeoutMs: 10_000 })
Effect.runPromise(Effect.provide(program, layer)).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  },
)
