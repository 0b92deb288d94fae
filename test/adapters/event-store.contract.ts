// The EventStore contract: what every adapter (memory, SQLite, EventStoreDB) must do. An adapter is
// done when this suite passes against it; event-store.test.ts runs it against each one.
import { describe, test } from "node:test"
import assert from "node:assert/strict"
import { randomUUID } from "node:crypto"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { eventHash, GENESIS } from "../../src/application/hash-chain.ts"
import { EventStore, type NewEvent, type StoreUnavailable, type StoredEvent, type StreamOrderPage } from "../../src/ports/event-store.ts"

export interface EventStoreContractOptions {
  /**
   * True when every layer build is an empty store, so whole-log reads can be checked exactly.
   * False for a shared server (EventStoreDB), where tests only look past their own first event.
   */
  readonly freshStorePerTest: boolean
  /** Whether the store offers readByStream (ADR 0194); one that does not is read in global order. */
  readonly streamOrder: boolean
  /** A reason to skip the whole suite (printed by the runner), e.g. no server configured. */
  readonly skip?: string | undefined
}

export const newEvent = (type: string, data: unknown, correlationId = randomUUID()): NewEvent => ({
  type,
  schemaVersion: 1,
  data,
  meta: { occurredAt: "2025-01-02T03:04:05.678Z", actor: "conductor-1", correlationId, causationId: null },
})

const nodeStream = () => `node-${randomUUID()}`

/** What a caller gave, as the store must give it back. */
const expectSame = (stored: StoredEvent, sent: NewEvent) => {
  assert.equal(stored.type, sent.type)
  assert.equal(stored.schemaVersion, sent.schemaVersion)
  assert.deepEqual(stored.data, sent.data)
  assert.deepEqual(stored.meta, sent.meta)
}

const strictlyIncreasing = (positions: ReadonlyArray<number>) =>
  positions.every((position, i) => i === 0 || position > positions[i - 1]!)

/** Waits (bounded) until the ref holds at least `count` items. */
const awaitCount = <A>(ref: Ref.Ref<ReadonlyArray<A>>, count: number, what: string) =>
  Effect.gen(function* () {
    while ((yield* Ref.get(ref)).length < count) yield* Effect.sleep("5 millis")
  }).pipe(
    Effect.timeout("5 seconds"),
    Effect.mapError(() => new Error(`timed out waiting for ${what}`)),
  )

/** Live timers, counted from a setImmediate callback so that a firing timer is not counted. */
const activeTimers = Effect.promise(() =>
  new Promise<number>((resolve) =>
    setImmediate(() => resolve(process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length))
  )
)

export const eventStoreContract = (
  name: string,
  makeLayer: () => Layer.Layer<EventStore, StoreUnavailable>,
  options: EventStoreContractOptions,
) => {
  const run = <A, E>(body: (store: EventStore["Service"]) => Effect.Effect<A, E>): Promise<A> =>
    Effect.runPromise(Effect.provide(EventStore.use(body), makeLayer()))

  describe(`EventStore contract: ${name}`, { skip: options.skip ?? false, timeout: 60_000 }, () => {
    test("appends events and reads them back in order with revisions from 0", () =>
      run((store) =>
        Effect.gen(function* () {
          const streamId = nodeStream()
          const first = [
            newEvent("Enrolled", { nodeId: streamId, macs: ["52:54:00:12:34:56"], name: "rack1-ü" }),
            newEvent("PowerOnRequested", { attempt: 1, nested: { list: [1, 2.5, null, true] } }),
            newEvent("PowerStateChanged", { power: "on", durationMs: 1234 }),
          ]
          const appended = yield* store.append(streamId, first, "no_stream")
          assert.equal(appended.nextExpectedRevision, 2)

          const stored = yield* store.readStream(streamId)
          assert.deepEqual(stored.map((e) => e.revision), [0, 1, 2])
          assert.ok(stored.every((e) => e.streamId === streamId))
          stored.forEach((e, i) => expectSame(e, first[i]!))
          assert.ok(strictlyIncreasing(stored.map((e) => e.position)), "positions grow with revisions")
          assert.equal(appended.position, stored[2]!.position, "the append reports its last event's position")

          const more = [newEvent("IscsiReady", { lun: 1 }), newEvent("ImageWritten", { bytes: 1 << 20 })]
          const next = yield* store.append(streamId, more, 2)
          assert.equal(next.nextExpectedRevision, 4)
          const tail = yield* store.readStream(streamId, 3)
          assert.deepEqual(tail.map((e) => [e.revision, e.type]), [[3, "IscsiReady"], [4, "ImageWritten"]])
          assert.ok(tail[0]!.position > stored[2]!.position)
          assert.deepEqual(yield* store.readStream(streamId, 5), [])
        })))

    test("reading a stream that does not exist gives no events", () =>
      run((store) =>
        Effect.gen(function* () {
          assert.deepEqual(yield* store.readStream(nodeStream()), [])
        })))

    test("no_stream is refused once the stream exists, and the stream is left untouched", () =>
      run((store) =>
        Effect.gen(function* () {
          const streamId = nodeStream()
          yield* store.append(streamId, [newEvent("Enrolled", { n: 0 }), newEvent("Inspected", { n: 1 })], "no_stream")
          const before = yield* store.readStream(streamId)
          const error = yield* Effect.flip(store.append(streamId, [newEvent("Enrolled", { n: 2 })], "no_stream"))
          assert.equal(error._tag, "WrongExpectedRevision")
          assert.equal(error.streamId, streamId)
          assert.equal(error.expected, "no_stream")
          assert.equal(error.actual, 1)
          assert.deepEqual(yield* store.readStream(streamId), before)
        })))

    test("a numeric expected revision must equal the stream's last revision", () =>
      run((store) =>
        Effect.gen(function* () {
          const streamId = nodeStream()
          const missing = yield* Effect.flip(store.append(streamId, [newEvent("Enrolled", {})], 0))
          assert.equal(missing._tag, "WrongExpectedRevision")
          assert.equal(missing.actual, "no_stream")
          assert.deepEqual(yield* store.readStream(streamId), [], "a refused append must not create the stream")

          yield* store.append(streamId, [newEvent("Enrolled", {}), newEvent("Inspected", {})], "no_stream")
          const before = yield* store.readStream(streamId)
          for (const wrong of [0, 2, 7]) {
            const error = yield* Effect.flip(store.append(streamId, [newEvent("Stale", { wrong })], wrong))
            assert.equal(error._tag, "WrongExpectedRevision")
            assert.equal(error.expected, wrong)
            assert.equal(error.actual, 1)
          }
          assert.deepEqual(yield* store.readStream(streamId), before)

          const ok = yield* store.append(streamId, [newEvent("PowerOnRequested", {})], 1)
          assert.equal(ok.nextExpectedRevision, 2)
        })))

    test("any appends whatever the stream's revision, creating it if needed", () =>
      run((store) =>
        Effect.gen(function* () {
          const streamId = nodeStream()
          const created = yield* store.append(streamId, [newEvent("Enrolled", {})], "any")
          assert.equal(created.nextExpectedRevision, 0)
          const next = yield* store.append(streamId, [newEvent("Inspected", {}), newEvent("Managed", {})], "any")
          assert.equal(next.nextExpectedRevision, 2)
          assert.deepEqual((yield* store.readStream(streamId)).map((e) => e.type), ["Enrolled", "Inspected", "Managed"])
        })))

    test("an append of no events only checks the expected revision", () =>
      run((store) =>
        Effect.gen(function* () {
          const streamId = nodeStream()
          const onMissing = yield* store.append(streamId, [], "no_stream")
          assert.equal(onMissing.nextExpectedRevision, -1)
          assert.deepEqual(yield* store.readStream(streamId), [])
          yield* store.append(streamId, [newEvent("Enrolled", {})], "no_stream")
          assert.equal((yield* store.append(streamId, [], 0)).nextExpectedRevision, 0)
          const error = yield* Effect.flip(store.append(streamId, [], "no_stream"))
          assert.equal(error._tag, "WrongExpectedRevision")
          assert.equal(error.actual, 0)
          assert.equal((yield* store.readStream(streamId)).length, 1)
        })))

    test("an append that cannot be encoded writes none of its events and says which event is bad", () =>
      run((store) =>
        Effect.gen(function* () {
          const streamId = nodeStream()
          const events = [newEvent("Enrolled", { ok: 1 }), newEvent("Inspected", { ok: 2 }), newEvent("Broken", { size: 10n })]
          const exit = yield* Effect.exit(store.append(streamId, events, "no_stream"))
          assert.ok(Exit.isFailure(exit) && Cause.hasDies(exit.cause), "bad input is a defect, not a store outage")
          const defect = Cause.squash(exit.cause)
          assert.ok(defect instanceof TypeError)
          assert.match(defect.message, /Broken/)
          assert.deepEqual(yield* store.readStream(streamId), [])

          const badRevision = yield* Effect.exit(store.append(streamId, [newEvent("Enrolled", {})], -3))
          assert.ok(Exit.isFailure(badRevision) && Cause.hasDies(badRevision.cause))
          assert.deepEqual(yield* store.readStream(streamId), [])
        })))

    test("concurrent appends at the same expected revision: exactly one wins", () =>
      run((store) =>
        Effect.gen(function* () {
          const streamId = nodeStream()
          yield* store.append(streamId, [newEvent("Enrolled", {})], "no_stream")
          const contenders = ["a", "b", "c", "d"].map((who) =>
            Effect.result(store.append(streamId, [newEvent("DeployRequested", { who }), newEvent("DeployStarted", { who })], 0))
          )
          const results = yield* Effect.all(contenders, { concurrency: "unbounded" })
          const winners = results.flatMap((r, i) => (r._tag === "Success" ? [i] : []))
          assert.equal(winners.length, 1, "exactly one append wins")
          for (const r of results) {
            if (r._tag === "Failure") {
              assert.equal(r.failure._tag, "WrongExpectedRevision")
              assert.equal(r.failure._tag === "WrongExpectedRevision" ? r.failure.actual : undefined, 2)
            }
          }
          const who = ["a", "b", "c", "d"][winners[0]!]
          const stored = yield* store.readStream(streamId)
          assert.deepEqual(stored.map((e) => [e.revision, e.type, (e.data as { who?: string }).who]), [
            [0, "Enrolled", undefined],
            [1, "DeployRequested", who],
            [2, "DeployStarted", who],
          ])
        })))

    test("200 concurrent appends to distinct streams all land, each caller told its own revision and position", () =>
      run((store) =>
        Effect.gen(function* () {
          const streams = Array.from({ length: 200 }, () => nodeStream())
          const firsts = yield* Effect.forEach(
            streams,
            (streamId, i) => store.append(streamId, [newEvent("Enrolled", { i }), newEvent("Inspected", { i })], "no_stream"),
            { concurrency: "unbounded" },
          )
          // A second burst: each append must see its own stream's first one, whatever it was batched with.
          const seconds = yield* Effect.forEach(
            streams,
            (streamId, i) => store.append(streamId, [newEvent("Managed", { i })], 1),
            { concurrency: "unbounded" },
          )
          const positions: Array<number> = []
          for (let i = 0; i < streams.length; i++) {
            assert.equal(firsts[i]!.nextExpectedRevision, 1)
            assert.equal(seconds[i]!.nextExpectedRevision, 2)
            const stored = yield* store.readStream(streams[i]!)
            assert.deepEqual(stored.map((e) => [e.revision, e.type, e.data]), [
              [0, "Enrolled", { i }],
              [1, "Inspected", { i }],
              [2, "Managed", { i }],
            ])
            assert.equal(firsts[i]!.position, stored[1]!.position, `stream ${i}: the first append reports its own last position`)
            assert.equal(seconds[i]!.position, stored[2]!.position, `stream ${i}: the second append reports its own position`)
            positions.push(...stored.map((e) => e.position))
          }
          assert.equal(new Set(positions).size, 600, "every event has a position of its own")
        })))

    test("conflicting appends racing with valid ones: one contender wins, every valid append lands", () =>
      run((store) =>
        Effect.gen(function* () {
          const contended = nodeStream()
          yield* store.append(contended, [newEvent("Enrolled", {})], "no_stream")
          // Contenders (every fourth) and bystanders on streams of their own, all started at once.
          const racers = Array.from({ length: 40 }, (_, i) =>
            i % 4 === 0
              ? { contender: true, streamId: contended, append: store.append(contended, [newEvent("DeployRequested", { i })], 0) }
              : (() => {
                const streamId = nodeStream()
                return { contender: false, streamId, append: store.append(streamId, [newEvent("Enrolled", { i })], "no_stream") }
              })()
          )
          const results = yield* Effect.forEach(racers, (racer) => Effect.result(racer.append), { concurrency: "unbounded" })

          const winners = racers.flatMap((racer, i) => (racer.contender && results[i]!._tag === "Success" ? [i] : []))
          assert.equal(winners.length, 1, `exactly one contender wins, got ${JSON.stringify(winners)}`)
          for (let i = 0; i < racers.length; i++) {
            const result = results[i]!
            if (racers[i]!.contender) {
              if (result._tag === "Success") continue
              assert.equal(result.failure._tag, "WrongExpectedRevision")
              assert.equal(result.failure._tag === "WrongExpectedRevision" ? result.failure.actual : undefined, 1)
            } else {
              assert.equal(result._tag, "Success", `bystander ${i} must not fail with the contenders`)
              const stored = yield* store.readStream(racers[i]!.streamId)
              assert.deepEqual(stored.map((e) => [e.revision, e.type, e.data]), [[0, "Enrolled", { i }]])
            }
          }
          const stored = yield* store.readStream(contended)
          assert.deepEqual(stored.map((e) => [e.revision, e.type, e.data]), [
            [0, "Enrolled", {}],
            [1, "DeployRequested", { i: winners[0] }],
          ])
        })))

    test("concurrent appends to one stream with any: each batch lands whole at the revisions its caller was told", () =>
      run((store) =>
        Effect.gen(function* () {
          const streamId = nodeStream()
          const callers = Array.from({ length: 20 }, (_, who) => who)
          const results = yield* Effect.forEach(
            callers,
            (who) => store.append(streamId, [newEvent("StepStarted", { who }), newEvent("StepDone", { who })], "any"),
            { concurrency: "unbounded" },
          )
          const stored = yield* store.readStream(streamId)
          assert.equal(stored.length, 40)
          assert.deepEqual(
            results.map((r) => r.nextExpectedRevision).sort((a, b) => a - b),
            callers.map((who) => 2 * who + 1),
            "the batches take turns: revisions 0-1, 2-3, ...",
          )
          for (const who of callers) {
            const last = results[who]!.nextExpectedRevision
            assert.deepEqual(stored.slice(last - 1, last + 1).map((e) => [e.type, e.data]), [
              ["StepStarted", { who }],
              ["StepDone", { who }],
            ])
            assert.equal(results[who]!.position, stored[last]!.position)
          }
        })))

    test("readAll gives every stream's events in global order, after a position, with a limit", () =>
      run((store) =>
        Effect.gen(function* () {
          const a = nodeStream()
          const b = nodeStream()
          const marker = yield* store.append(nodeStream(), [newEvent("Marker", {})], "no_stream")
          yield* store.append(a, [newEvent("A0", {})], "no_stream")
          yield* store.append(b, [newEvent("B0", {}), newEvent("B1", {})], "no_stream")
          yield* store.append(a, [newEvent("A1", {})], 0)

          const all = yield* store.readAll({ after: marker.position })
          assert.deepEqual(all.map((e) => `${e.type}@${e.streamId === a ? "a" : "b"}${e.revision}`), [
            "A0@a0",
            "B0@b0",
            "B1@b1",
            "A1@a1",
          ])
          assert.ok(strictlyIncreasing([marker.position, ...all.map((e) => e.position)]))

          const firstTwo = yield* store.readAll({ after: marker.position, limit: 2 })
          assert.deepEqual(firstTwo.map((e) => e.type), ["A0", "B0"])
          const nextTwo = yield* store.readAll({ after: firstTwo[1]!.position, limit: 2 })
          assert.deepEqual(nextTwo.map((e) => e.type), ["B1", "A1"])
          assert.deepEqual(yield* store.readAll({ after: all[3]!.position }), [])
          assert.deepEqual(yield* store.readAll({ after: marker.position, limit: 0 }), [])

          if (options.freshStorePerTest) {
            const fromStart = yield* store.readAll()
            assert.deepEqual(fromStart.map((e) => e.type), ["Marker", "A0", "B0", "B1", "A1"])
            assert.deepEqual((yield* store.readAll({ limit: 1 })).map((e) => e.type), ["Marker"])
          }
        })))

    test("readByStream gives each stream's events together by revision, every event up to the first page's head once, later ones to readAll", () =>
      run((store) =>
        Effect.gen(function* () {
          const read = store.readByStream
          assert.equal(read !== undefined, options.streamOrder, `readByStream ${options.streamOrder ? "missing" : "offered, but not declared"}`)
          if (read === undefined || !options.freshStorePerTest) return
          const empty = yield* read(null, 10)
          assert.deepEqual([empty.events, empty.next], [[], null])
          const [a, b, c] = [nodeStream(), nodeStream(), nodeStream()]
          const sent: Array<[string, string, unknown]> = [[a, "A0", { n: 0 }], [b, "B0", { text: "é \" ," }], [a, "A1", {}], [c, "C0", { list: [1, null] }], [b, "B1", {}], [a, "A2", {}]]
          const heads = new Map<string, number>()
          for (const [stream, type, data] of sent) {
            const r = yield* store.append(stream, [newEvent(type, data)], heads.get(stream) ?? "no_stream")
            heads.set(stream, r.nextExpectedRevision)
          }
          const withoutHash = ({ hash: _, ...e }: StoredEvent) => e
          for (const limit of [1, 2, 4, 100]) {
            const inGlobalOrder = yield* store.readAll()
            const head = inGlobalOrder[inGlobalOrder.length - 1]!.position
            const pages: Array<StreamOrderPage> = [yield* read(null, limit)]
            // What lands after the first page is past its head: never in this read.
            if (limit === 2) {
              yield* store.append(a, [newEvent("A3", {})], 2)
              yield* store.append(nodeStream(), [newEvent("D0", {})], "no_stream")
            }
            while (pages[pages.length - 1]!.next !== null) pages.push(yield* read(pages[pages.length - 1]!.next, limit))
            const events = pages.flatMap((p) => p.events)
            assert.ok(pages.every((p) => p.events.length <= limit && p.upTo === pages[0]!.upTo), `limit ${limit}: pages of at most ${limit}, all bounded by the first page's head`)
            assert.ok(pages[0]!.upTo >= head, `limit ${limit}: the bound ${pages[0]!.upTo} is below the head ${head}`)
            assert.deepEqual(events.map(withoutHash).sort((x, y) => x.position - y.position), inGlobalOrder.map(withoutHash))
            const streams = events.map((e) => e.streamId)
            assert.ok(streams.every((s, i) => i === 0 || s === streams[i - 1] || !streams.slice(0, i).includes(s)), `limit ${limit}: each stream's events together: ${streams.join(" ")}`)
            assert.ok(events.every((e, i) => i === 0 || e.streamId !== events[i - 1]!.streamId || e.revision === events[i - 1]!.revision + 1), `limit ${limit}: by revision`)
            if (limit === 2) assert.deepEqual((yield* store.readAll({ after: pages[0]!.upTo })).map((e) => e.type), ["A3", "D0"])
          }
        })))

    test("readAll without hashes gives the same events, data and meta intact, hash aside", () =>
      run((store) =>
        Effect.gen(function* () {
          const a = nodeStream()
          const marker = yield* store.append(nodeStream(), [newEvent("Marker", {})], "no_stream")
          yield* store.append(a, [newEvent("A0", { text: "quote \" comma , bracket ] unicode \u00e9", list: [1, { deep: null }] }), newEvent("A1", {})], "no_stream")
          const full = yield* store.readAll({ after: marker.position })
          const lean = yield* store.readAll({ after: marker.position, hashes: false })
          assert.deepEqual(lean.map(({ hash: _, ...e }) => e), full.map(({ hash: _, ...e }) => e))
          assert.deepEqual((yield* store.readAll({ after: marker.position, limit: 1, hashes: false })).map((e) => e.type), ["A0"])
        })))

    test("subscribeAll catches up from a position, then receives live appends", () =>
      run((store) =>
        Effect.gen(function* () {
          const a = nodeStream()
          const marker = yield* store.append(nodeStream(), [newEvent("Marker", {})], "no_stream")
          yield* store.append(a, [newEvent("Past0", {}), newEvent("Past1", {})], "no_stream")
          const seen = yield* Ref.make<ReadonlyArray<StoredEvent>>([])
          const subscriber = yield* store.subscribeAll(marker.position).pipe(
            Stream.take(5),
            Stream.runForEach((event) => Ref.update(seen, (events) => [...events, event])),
            Effect.forkChild,
          )
          yield* awaitCount(seen, 2, "the catch-up events")
          yield* store.append(a, [newEvent("Live2", {})], 1)
          yield* awaitCount(seen, 3, "the first live event")
          yield* store.append(a, [newEvent("Live3", {}), newEvent("Live4", {})], 2)
          // take(5) ends the stream, so the subscriber must finish on its own.
          yield* Fiber.join(subscriber).pipe(Effect.timeout("5 seconds"))
          const events = yield* Ref.get(seen)
          assert.deepEqual(events.map((e) => e.type), ["Past0", "Past1", "Live2", "Live3", "Live4"])
          assert.deepEqual(events.map((e) => e.revision), [0, 1, 2, 3, 4])
          assert.ok(strictlyIncreasing(events.map((e) => e.position)))
        })))

    test("subscribeAll stops cleanly when interrupted, leaving no timer behind", () =>
      run((store) =>
        Effect.gen(function* () {
          const marker = yield* store.append(nodeStream(), [newEvent("Marker", {})], "no_stream")
          const timersBefore = yield* activeTimers
          const seen = yield* Ref.make<ReadonlyArray<StoredEvent>>([])
          const subscriber = yield* store.subscribeAll(marker.position).pipe(
            Stream.runForEach((event) => Ref.update(seen, (events) => [...events, event])),
            Effect.forkChild,
          )
          const a = nodeStream()
          yield* store.append(a, [newEvent("Live", {})], "no_stream")
          yield* awaitCount(seen, 1, "the live event")
          yield* Effect.sleep("30 millis") // now waiting for the next append
          yield* Fiber.interrupt(subscriber).pipe(Effect.timeout("2 seconds"))
          assert.equal(yield* activeTimers, timersBefore, "the subscription's poll timer must be cleared")
          // The store is still usable, and the stopped subscriber got nothing more.
          yield* store.append(a, [newEvent("AfterStop", {})], 0)
          yield* Effect.sleep("30 millis")
          assert.deepEqual((yield* Ref.get(seen)).map((e) => e.type), ["Live"])
        })))

    test("every event carries its stream hash, chained to the previous event of its stream (ADR 0030)", () =>
      run((store) =>
        Effect.gen(function* () {
          const a = nodeStream(), b = nodeStream()
          yield* store.append(a, [newEvent("Enrolled", { name: "x" }), newEvent("Managed", {})], "no_stream")
          yield* store.append(b, [newEvent("Enrolled", { name: "y", n: 1.5 })], "no_stream")
          yield* store.append(a, [newEvent("Provided", { list: [3, null] })], 1)
          const streamA = yield* store.readStream(a)
          let previous = GENESIS
          for (const event of streamA) {
            assert.equal(event.hash, eventHash(previous, event), `hash of ${a} revision ${event.revision}`)
            previous = event.hash!
          }
          const [onlyB] = yield* store.readStream(b)
          assert.equal(onlyB!.hash, eventHash(GENESIS, onlyB!))
          // The same hashes whichever way the events are read.
          const all = yield* store.subscribeAll(streamA[0]!.position - 1).pipe(Stream.take(4), Stream.runCollect)
          const byKey = new Map([...streamA, onlyB!].map((e) => [`${e.streamId}/${e.revision}`, e.hash]))
          for (const event of all) assert.equal(event.hash, byKey.get(`${event.streamId}/${event.revision}`))
        })))
  })
}
