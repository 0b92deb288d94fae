// The notary on its own (ADR 0030): checkpoints every N events and at the end of a pass, none for
// its own checkpoints alone, a restarted notary continues the same chain, and a second notary
// racing the first loses cleanly. Every log it leaves verifies.
import { test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import { TestClock } from "effect/testing"
import { makeMemoryEventStore } from "../../src/adapters/eventstore/memory.ts"
import { isCheckpoint, makeNotary, NOTARY_STREAM, type LogCheckpoint } from "../../src/application/notary.ts"
import { makeLogVerifier } from "../../src/application/verify-log.ts"
import { checkpointStatement } from "../../src/application/hash-chain.ts"
import { EventStore } from "../../src/ports/index.ts"
import { newEvent } from "../adapters/event-store.contract.ts"

const setup = () => {
  const store = makeMemoryEventStore()
  const layer = Layer.succeed(EventStore, store)
  const run = <A, E>(effect: Effect.Effect<A, E, EventStore>) => Effect.runPromise(Effect.provide(effect, layer))
  const notary = (every: number) => makeNotary({ every, intervalMs: 1000, statement: checkpointStatement })
  const append = (stream: string, count: number) =>
    run(Effect.flatMap(EventStore, (s) => s.append(stream, Array.from({ length: count }, (_, i) => newEvent("Note", { i })), "any")))
  const verify = async () => {
    const events = await run(Effect.flatMap(EventStore, (s) => s.readAll()))
    const checkpoints = events.filter(isCheckpoint).map((e) => ({ checkpoint: e.data as LogCheckpoint, source: "log" }))
    const verifier = makeLogVerifier({ checkpoints, contiguousPositions: true })
    for (const e of events) verifier.add(e)
    return verifier.finish()
  }
  return { run, notary, append, verify }
}

test("checkpoints every N events and at the end of a pass; nothing new, nothing written", async () => {
  const { run, notary, append, verify } = setup()
  const n = notary(4)
  await append("node-a", 5)
  await append("node-b", 5)
  const first = await run(n.tick)
  assert.deepEqual(first.map((c) => [c.position, c.events]), [[4, 4], [8, 8], [10, 10]])
  // Only its own checkpoints since: no checkpoint of checkpoints.
  assert.deepEqual(await run(n.tick), [])
  await append("node-a", 1)
  const next = await run(n.tick)
  // The chain covers the notary's own events too: 10 node events, 3 checkpoints, 1 more event.
  assert.deepEqual(next.map((c) => [c.position, c.events]), [[14, 14]])
  const report = await verify()
  assert.ok(report.ok, JSON.stringify(report.findings))
  assert.equal(report.checkpointsMatched, 4)
})

test("a restarted notary continues the chain from its last checkpoint; a racing one loses cleanly", async () => {
  const { run, notary, append, verify } = setup()
  await append("node-a", 3)
  await run(notary(100).tick)
  await append("node-b", 2)
  // A new process: resumes from the checkpoint in the log, not from the start.
  const restarted = notary(100)
  const [resumed] = await run(restarted.tick)
  assert.deepEqual([resumed!.position, resumed!.events], [6, 6])

  // Two notaries see the same new events; the second one's append conflicts and writes nothing.
  const other = notary(100)
  await run(other.tick) // loads its state: nothing new yet
  await append("node-c", 1)
  const won = await run(restarted.tick)
  const lost = await run(other.tick)
  assert.equal(won.length, 1)
  assert.deepEqual(lost, [])
  // ...and it starts again from the winner's checkpoint next time.
  await append("node-c", 1)
  assert.equal((await run(other.tick)).length, 1)
  const checkpoints = (await run(Effect.flatMap(EventStore, (s) => s.readStream(NOTARY_STREAM)))).length
  assert.equal(checkpoints, 4)
  const report = await verify()
  assert.ok(report.ok, JSON.stringify(report.findings))
})

test("running, the notary chains a tenth of an interval at a time and checkpoints once an interval has passed", async () => {
  const store = makeMemoryEventStore()
  const layer = Layer.mergeAll(Layer.succeed(EventStore, store), TestClock.layer())
  const reads: Array<number> = []
  // The store as the notary sees it: its reads of the log counted (one per page at least).
  const counted = { ...store, readAll: (o?: Parameters<typeof store.readAll>[0]) => { reads.push(o?.after ?? -1); return store.readAll(o) } }
  const notary = makeNotary({ every: 1000, intervalMs: 1000, statement: checkpointStatement })
  const checkpoints = () => Effect.map(store.readStream(NOTARY_STREAM), (events) => events.filter(isCheckpoint).map((e) => (e.data as LogCheckpoint).events))
  const seen = await Effect.runPromise(Effect.provide(Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(Effect.provideService(notary.run, EventStore, counted))
    yield* TestClock.adjust("1 millis")
    const { position } = yield* store.append("node-a", [newEvent("Note", { i: 0 }), newEvent("Note", { i: 1 })], "any")
    // Passes at 100 and 200 ms: the first chains the two events, the second reads on after them.
    yield* TestClock.adjust("249 millis")
    const chainedEarly = reads.at(-1)
    const beforeInterval = yield* checkpoints()
    yield* store.append("node-a", [newEvent("Note", { i: 2 })], "any")
    yield* TestClock.adjust("1000 millis")
    const afterInterval = yield* checkpoints()
    yield* Fiber.interrupt(fiber)
    return { chainedEarly, position, beforeInterval, afterInterval }
  }), layer))
  assert.equal(seen.chainedEarly, seen.position, "passes a tenth of an interval apart chained the events, with no checkpoint")
  assert.deepEqual(seen.beforeInterval, [], "no checkpoint before an interval has passed")
  assert.deepEqual(seen.afterInterval, [3], "one checkpoint covering every event, once the interval passed")
})
