// Optimistic concurrency under every interleaving fast-check's scheduler can find: whoever appends
// at a stale revision loses, the stream only ever holds whole batches of the winners. Run against
// the memory store and the SQLite store (two connections to one file, like two conductors).
import { after, describe, test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { makeMemoryEventStore } from "../../src/adapters/eventstore/memory.ts"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { EventStore, type ExpectedRevision, type NewEvent } from "../../src/ports/event-store.ts"

type Store = EventStore["Service"]

/** Handles on one store (possibly several connections to it), and how to let it go. */
interface Opened {
  readonly handles: ReadonlyArray<Store>
  readonly close: () => Promise<void>
}

const dir = mkdtempSync(join(tmpdir(), "ironledger-concurrent-append-"))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

const openSqlite = async (): Promise<Opened> => {
  const path = join(dir, `store-${++files}.db`)
  const scope = Effect.runSync(Scope.make())
  const handles: Array<Store> = []
  for (let i = 0; i < 2; i++) {
    const context = await Effect.runPromise(Layer.buildWithScope(makeSqliteEventStore(path), scope))
    handles.push(Context.get(context, EventStore))
  }
  return { handles, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

const openMemory = async (): Promise<Opened> => ({ handles: [makeMemoryEventStore()], close: async () => {} })

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.result(effect))

const batchOf = (client: number, size: number): Array<NewEvent> =>
  Array.from({ length: size }, (_, i) => ({
    type: "DeployStepDone",
    schemaVersion: 1,
    data: { client, i },
    meta: { occurredAt: "2025-01-01T00:00:00.000Z", actor: `conductor-${client}`, correlationId: `c${client}`, causationId: null },
  }))

const expectedOf = (lastRevision: number): ExpectedRevision => (lastRevision < 0 ? "no_stream" : lastRevision)

const propertiesFor = (name: string, open: () => Promise<Opened>, numRuns: number) =>
  describe(`concurrent appends: ${name}`, { timeout: 120_000 }, () => {
    test("appends at the same expected revision: exactly one wins, the stream holds only its events", () =>
      fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 5 }),
          fc.integer({ min: 0, max: 3 }),
          async (s, batchSizes, seeded) => {
            const { handles, close } = await open()
            try {
              const streamId = "node-contended"
              if (seeded > 0) await Effect.runPromise(handles[0]!.append(streamId, batchOf(-1, seeded), "no_stream"))
              const expected = expectedOf(seeded - 1)
              const contenders = batchSizes.map(async (size, client) => {
                await s.schedule(Promise.resolve(), `append by ${client}`)
                return run(handles[client % handles.length]!.append(streamId, batchOf(client, size), expected))
              })
              const outcomes = await s.waitFor(Promise.all(contenders))

              const winners = outcomes.flatMap((o, client) => (o._tag === "Success" ? [client] : []))
              assert.equal(winners.length, 1, `exactly one winner, got ${JSON.stringify(winners)}`)
              const winner = winners[0]!
              const winnerLast = seeded - 1 + batchSizes[winner]!
              for (const outcome of outcomes) {
                if (outcome._tag === "Success") continue
                assert.equal(outcome.failure._tag, "WrongExpectedRevision")
                if (outcome.failure._tag !== "WrongExpectedRevision") continue
                assert.equal(outcome.failure.expected, expected)
                assert.equal(outcome.failure.actual, winnerLast)
              }
              const stored = await Effect.runPromise(handles[0]!.readStream(streamId))
              assert.deepEqual(
                stored.map((e) => [e.revision, e.data]),
                [...batchOf(-1, seeded), ...batchOf(winner, batchSizes[winner]!)].map((e, revision) => [revision, e.data]),
              )
            } finally {
              await close()
            }
          },
        ),
        { numRuns },
      ))

    test("read-then-append clients: the stream is the winners' whole batches, each at the revision it read", () =>
      fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 5 }),
          async (s, batchSizes) => {
            const { handles, close } = await open()
            try {
              const streamId = "node-busy"
              const clients = batchSizes.map(async (size, client) => {
                const store = handles[client % handles.length]!
                await s.schedule(Promise.resolve(), `read by ${client}`)
                const seen = await Effect.runPromise(store.readStream(streamId))
                const expected = expectedOf(seen.length - 1)
                await s.schedule(Promise.resolve(), `append by ${client}`)
                return { client, size, expected, outcome: await run(store.append(streamId, batchOf(client, size), expected)) }
              })
              const results = await s.waitFor(Promise.all(clients))
              const stored = await Effect.runPromise(handles[0]!.readStream(streamId))

              // Cut the stream into batches: each must be one winner's whole batch, appended right
              // after the revision that winner read.
              const winners = results.filter((r) => r.outcome._tag === "Success")
              assert.ok(winners.length >= 1, "the first append to land always wins")
              let revision = 0
              while (revision < stored.length) {
                const client = (stored[revision]!.data as { client: number }).client
                const won = winners.find((w) => w.client === client)
                assert.ok(won !== undefined, `events of client ${client}, which did not win, are in the stream`)
                assert.deepEqual(won.expected, expectedOf(revision - 1))
                const batch = stored.slice(revision, revision + won.size).map((e) => e.data)
                assert.deepEqual(batch, batchOf(client, won.size).map((e) => e.data), "a batch is whole and in order")
                if (won.outcome._tag === "Success") assert.equal(won.outcome.success.nextExpectedRevision, revision + won.size - 1)
                revision += won.size
              }
              assert.equal(stored.length, winners.reduce((n, w) => n + w.size, 0), "every winner's batch is stored")
              for (const lost of results.filter((r) => r.outcome._tag === "Failure")) {
                if (lost.outcome._tag !== "Failure") continue
                assert.equal(lost.outcome.failure._tag, "WrongExpectedRevision", "a loser lost to a newer revision")
              }
            } finally {
              await close()
            }
          },
        ),
        { numRuns },
      ))
  })

propertiesFor("memory", openMemory, 200)
propertiesFor("SQLite, two connections to one file", openSqlite, 40)
