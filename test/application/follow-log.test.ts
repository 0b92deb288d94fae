// The log's follower (followLog) folds what other processes write, a page at a time: a node whose
// stream it meets past a gap is caught up from the store before it is reported as news.
import { test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { MemoryStores } from "../../src/adapters/eventstore/memory.ts"
import { execute } from "../../src/application/execute.ts"
import { Fleet } from "../../src/application/projections/fleet.ts"
import { followLog } from "../../src/application/projections/projector.ts"
import { streamOf } from "../../src/application/event-codec.ts"
import { EventStore } from "../../src/ports/index.ts"

const ctx = { actor: "test", correlationId: "c", causationId: null, occurredAt: "2026-12-02T08:00:00.000Z" }
const idOf = (i: number) => `5c0ffee0-4a59-4e61-8d7c-${String(i).padStart(12, "0")}`
const enroll = (fleet: Fleet, i: number) =>
  execute(fleet, idOf(i), {
    type: "Enroll", nodeId: idOf(i) as never, name: `n${i}` as never, driver: "fake-hardware", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {},
  }, ctx)

test("the follower catches a node up past a gap, then reports it; a node's next event is reported at once", async () => {
  await Effect.runPromise(Effect.provide(Effect.gen(function* () {
    // Another process's writes: node 0 enrolled and put in maintenance, then node 1 enrolled.
    const writer = new Fleet()
    yield* enroll(writer, 0)
    yield* execute(writer, idOf(0), { type: "SetMaintenance", on: true, reason: "bios" }, ctx)
    yield* enroll(writer, 1)
    // A follower that has seen node 0's enrollment in the log and yet holds no node 0: the first event
    // it meets (node 0's revision 1) is past a gap.
    const [enrolled, maintained] = yield* (yield* EventStore).readStream(streamOf(idOf(0)), 0)
    const follower = new Fleet()
    follower.position = enrolled!.position
    const heard: Array<string> = []
    const fiber = yield* Effect.forkChild(followLog(follower, 10_000, (nodeId) => heard.push(nodeId)))
    for (let waited = 0; waited < 5000 && heard.length < 2; waited += 10) yield* Effect.sleep("10 millis")
    yield* Fiber.interrupt(fiber)
    assert.equal(follower.get(idOf(0))?.revision, 1, "node 0 caught up from its stream")
    assert.equal(follower.get(idOf(0))?.maintenance, true)
    assert.equal(follower.get(idOf(1))?.revision, 0)
    assert.deepEqual(heard.toSorted(), [idOf(0), idOf(1)], "each node reported once")
    assert.ok(follower.position > maintained!.position, "the follower's position moved past both nodes' events")
  }), MemoryStores))
})
