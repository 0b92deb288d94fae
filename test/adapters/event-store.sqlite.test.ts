// What only the SQLite store promises, on real files: several processes share one file, an
// acknowledged append survives kill -9, live subscriptions see other processes' appends.
import { after, describe, test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { makeSqliteEventStore, type SqliteStoreOptions } from "../../src/adapters/eventstore/sqlite.ts"
import { EventStore, type StoredEvent } from "../../src/ports/event-store.ts"
import { newEvent } from "./event-store.contract.ts"
import { killAllChildren, startChild } from "./event-store.processes.ts"

const dir = mkdtempSync(join(tmpdir(), "ironledger-sqlite-"))
after(() => {
  killAllChildren()
  rmSync(dir, { recursive: true, force: true })
})
let files = 0
const newFile = () => join(dir, `store-${++files}.db`)

const withStore = <A, E>(path: string, body: (store: EventStore["Service"]) => Effect.Effect<A, E>, options?: SqliteStoreOptions) =>
  Effect.runPromise(Effect.provide(EventStore.use(body), makeSqliteEventStore(path, options)))

const readStream = (path: string, streamId: string) => withStore(path, (store) => store.readStream(streamId))

describe("SQLite event store file", { timeout: 120_000 }, () => {
  test("is in WAL mode with the current schema version, as any other connection sees it", async () => {
    const path = newFile()
    await withStore(path, (store) => store.append("node-1", [newEvent("Enrolled", {})], "no_stream"))
    const raw = new DatabaseSync(path, { readOnly: true })
    try {
      assert.equal(raw.prepare("PRAGMA journal_mode").get()?.["journal_mode"], "wal")
      assert.equal(raw.prepare("PRAGMA user_version").get()?.["user_version"], 2)
    } finally {
      raw.close()
    }
  })

  test("refuses a file written by a newer schema, and a path it cannot open, with StoreUnavailable", async () => {
    const path = newFile()
    const raw = new DatabaseSync(path)
    raw.exec("PRAGMA user_version = 99")
    raw.close()
    const newer = await Effect.runPromise(Effect.flip(Effect.provide(EventStore.use(Effect.succeed), makeSqliteEventStore(path))))
    assert.equal(newer._tag, "StoreUnavailable")
    assert.match(newer.message, /schema version 99/)

    const missingDir = await Effect.runPromise(
      Effect.flip(Effect.provide(EventStore.use(Effect.succeed), makeSqliteEventStore(join(dir, "no-such-dir", "x.db")))),
    )
    assert.equal(missingDir._tag, "StoreUnavailable")
  })

  test("a new process reads back what was appended before it, and its appends are read back after it exits", async () => {
    const path = newFile()
    await withStore(path, (store) =>
      store.append("node-r", [newEvent("Enrolled", {}), newEvent("Inspected", {})], "no_stream"))
    const child = startChild(["append", path, "node-r", "3"])
    assert.equal(await child.exited(15_000), 0)
    assert.deepEqual(child.messages[0], { before: 2, nextExpectedRevision: 4, position: 5 })
    const stored = await readStream(path, "node-r")
    assert.deepEqual(stored.map((e) => [e.revision, e.type]), [
      [0, "Enrolled"],
      [1, "Inspected"],
      [2, "ChildAppended"],
      [3, "ChildAppended"],
      [4, "ChildAppended"],
    ])
  })

  test("every acknowledged append survives kill -9 of the appending process, and no batch is half-written", async () => {
    const path = newFile()
    const batch = 3
    const child = startChild(["append-forever", path, "node-k", String(batch)])
    // Kill while it is still appending: the kill lands at an arbitrary point of some append.
    await child.waitFor((m) => Number(m["acked"]) >= 40 * batch - 1, 30_000)
    child.process.kill("SIGKILL")
    assert.equal(await child.exited(5_000), null, "killed by the signal")
    const lastAcked = Math.max(...child.messages.map((m) => Number(m["acked"])))

    const stored = await readStream(path, "node-k")
    assert.ok(stored.length - 1 >= lastAcked, `acknowledged up to revision ${lastAcked}, found ${stored.length - 1}`)
    assert.equal(stored.length % batch, 0, "every batch is whole")
    stored.forEach((event, i) => {
      assert.equal(event.revision, i)
      assert.deepEqual(event.data, { round: Math.floor(i / batch), i: i % batch })
    })
  })

  test("with 50 fibers appending at once (group commit), every acknowledged append survives kill -9", async () => {
    const path = newFile()
    const [fibers, batch] = [50, 2]
    const child = startChild(["append-concurrently", path, String(fibers), String(batch)])
    // Many groups in: the kill lands at an arbitrary point of some group's transaction.
    await child.waitFor(() => child.messages.length >= 3000, 60_000)
    child.process.kill("SIGKILL")
    assert.equal(await child.exited(5_000), null, "killed by the signal")

    const lastAcked = new Map<number, number>()
    for (const m of child.messages) lastAcked.set(Number(m["fiber"]), Math.max(lastAcked.get(Number(m["fiber"])) ?? -1, Number(m["acked"])))
    assert.equal(lastAcked.size, fibers, "every fiber got appends acknowledged")
    await withStore(path, (store) =>
      Effect.gen(function* () {
        for (const [fiber, acked] of lastAcked) {
          const stored = yield* store.readStream(`node-k-${fiber}`)
          assert.ok(stored.length - 1 >= acked, `fiber ${fiber}: acknowledged up to revision ${acked}, found ${stored.length - 1}`)
          assert.equal(stored.length % batch, 0, `fiber ${fiber}: every batch is whole`)
          stored.forEach((event, i) => {
            assert.equal(event.revision, i)
            assert.deepEqual(event.data, { round: Math.floor(i / batch), i: i % batch })
          })
        }
      }))
  })

  test("two processes appending at the same expected revision: exactly one wins every round", async () => {
    const path = newFile()
    const rounds = 25
    await withStore(path, (store) =>
      Effect.forEach(Array.from({ length: rounds }, (_, r) => r), (r) =>
        store.append(`race-${r}`, [newEvent("Enrolled", {})], "no_stream")))
    const racers = ["left", "right"].map((label) => startChild(["race", path, label, String(rounds)]))
    await Promise.all(racers.map((racer) => racer.waitFor((m) => m["ready"] === true, 15_000)))
    for (const racer of racers) racer.send("go")
    assert.deepEqual(await Promise.all(racers.map((racer) => racer.exited(30_000))), [0, 0])

    await withStore(path, (store) =>
      Effect.gen(function* () {
        for (let round = 0; round < rounds; round++) {
          const outcomes = racers.map((racer) => racer.messages.find((m) => m["round"] === round)!)
          const winners = ["left", "right"].filter((_, i) => outcomes[i]!["won"] === true)
          assert.equal(winners.length, 1, `round ${round}: exactly one winner`)
          const loser = outcomes.find((o) => o["won"] === false)!
          assert.equal(loser["error"], "WrongExpectedRevision")
          assert.equal(loser["actual"], 2)
          const stored = yield* store.readStream(`race-${round}`)
          assert.deepEqual(stored.map((e) => [e.type, (e.data as { by?: string }).by]), [
            ["Enrolled", undefined],
            ["RaceWon", winners[0]],
            ["RaceWonToo", winners[0]],
          ])
        }
      }))
  })

  test("a live subscription sees appends made by another process (by polling)", async () => {
    const path = newFile()
    const received = await withStore(
      path,
      (store) =>
        Effect.gen(function* () {
          const subscriber = yield* store.subscribeAll().pipe(Stream.take(3), Stream.runCollect, Effect.forkChild)
          yield* Effect.sleep("100 millis")
          const child = startChild(["append", path, "node-x", "3"])
          const code = yield* Effect.promise(() => child.exited(15_000))
          assert.equal(code, 0)
          return yield* Fiber.join(subscriber).pipe(Effect.timeout("5 seconds"))
        }),
      { pollIntervalMs: 50 },
    )
    assert.deepEqual(received.map((e: StoredEvent) => [e.streamId, e.revision, e.type]), [
      ["node-x", 0, "ChildAppended"],
      ["node-x", 1, "ChildAppended"],
      ["node-x", 2, "ChildAppended"],
    ])
  })

  test("a live subscription is woken at once by an append in this process, not at the next poll", async () => {
    const path = newFile()
    const received = await withStore(
      path,
      (store) =>
        Effect.gen(function* () {
          const subscriber = yield* store.subscribeAll().pipe(Stream.take(1), Stream.runCollect, Effect.forkChild)
          yield* Effect.sleep("50 millis") // caught up (nothing to read) and waiting
          yield* store.append("node-w", [newEvent("Enrolled", {})], "no_stream")
          return yield* Fiber.join(subscriber).pipe(Effect.timeout("1 second"))
        }),
      { pollIntervalMs: 60_000 },
    )
    assert.deepEqual(received.map((e: StoredEvent) => e.type), ["Enrolled"])
  })

  test("a subscriber served from this process's own appends still sees, in order, what another writer put in between", async () => {
    const path = newFile()
    const open = Effect.map(Layer.build(makeSqliteEventStore(path, { pollIntervalMs: 50 })), (c) => Context.get(c, EventStore))
    const received = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const mine = yield* open
      const other = yield* open
      const subscriber = yield* mine.subscribeAll().pipe(Stream.take(6), Stream.runCollect, Effect.forkChild)
      yield* Effect.sleep("50 millis")
      yield* mine.append("node-a", [newEvent("Mine", { n: 1 }), newEvent("Mine", { n: 2 })], "no_stream")
      yield* other.append("node-b", [newEvent("Other", { n: 3 })], "no_stream")
      yield* mine.append("node-a", [newEvent("Mine", { n: 4 })], 1)
      yield* other.append("node-b", [newEvent("Other", { n: 5 })], 0)
      yield* mine.append("node-a", [newEvent("Mine", { n: 6 })], 2)
      return yield* Fiber.join(subscriber).pipe(Effect.timeout("5 seconds"))
    })))
    assert.deepEqual(received.map((e: StoredEvent) => (e.data as { n: number }).n), [1, 2, 3, 4, 5, 6])
    assert.deepEqual(received.map((e: StoredEvent) => e.position), [...received.map((e: StoredEvent) => e.position)].sort((a, b) => a - b))
  })
})
