// The fleet checkpoint is encoded in slices with turns of the event loop between them (ADR 0180):
// the text is the one encoded in one go, other work runs while it is encoded, and the log's
// follower saves checkpoints beside the stream without stopping folding it. The follower folds a page
// of the log at a time: a node it meets past a gap is caught up from the store before it is news.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import { MemoryStores } from "../../src/adapters/eventstore/memory.ts"
import { execute } from "../../src/application/execute.ts"
import { Fleet, fleetSnapshotVersion } from "../../src/application/projections/fleet.ts"
import { encodeCheckpoint, encodeCheckpointYielding } from "../../src/application/projections/fleet-checkpoint.ts"
import { followLog } from "../../src/application/projections/projector.ts"
import { fleetCheckpoint, makeFleetCheckpoints } from "../../src/application/projections/fleet-checkpoints.ts"
import { streamOf } from "../../src/application/event-codec.ts"
import { initialState, type NodeState, type Uuid } from "../../src/domain/index.ts"
import { CheckpointStore, EventStore } from "../../src/ports/index.ts"
import { fleetLogArb } from "../support/fleet-log.ts"

test("the checkpoint encoded in slices is the text encoded in one go", async () => {
  await fc.assert(
    fc.asyncProperty(fleetLogArb(), fc.constantFrom(0, 1 / 4, 1), async ({ log }, sharedPerNode) => {
      const fleet = new Fleet()
      for (const e of log) fleet.apply(e.nodeId, e, e.position)
      const nodes = [...fleet.nodes.values()]
      // sliceMs 0: a turn of the loop after every step, the most interleaved encode there is.
      const sliced = await Effect.runPromise(encodeCheckpointYielding(fleetSnapshotVersion, fleet.position, nodes, { sliceMs: 0, sharedPerNode }))
      assert.equal(sliced.join(""), encodeCheckpoint(fleetSnapshotVersion, fleet.position, nodes, sharedPerNode))
    }),
    { numRuns: 40 },
  )
})

/** Node states enough for an encode of a few hundred ms: distinct names, a few states and drivers. */
const manyNodes = (count: number): Array<NodeState> =>
  Array.from({ length: count }, (_, i) => ({
    ...initialState(`00000000-0000-4000-8000-${String(i).padStart(12, "0")}` as Uuid),
    name: `node-${i}`, provisionState: i % 3 === 0 ? "available" : "manageable", driver: i % 2 === 0 ? "ipmi" : "redfish",
    properties: { cpus: 8 + (i % 4), memory_mb: 65536 + i },
  }) as NodeState)

test("other work runs between the slices, each turn waiting a few ms, not the whole encode", async () => {
  const nodes = manyNodes(15_000)
  let turns = 0
  let longestGap = 0
  let last = performance.now()
  let running = true
  const tick = () => {
    const now = performance.now()
    longestGap = Math.max(longestGap, now - last)
    last = now
    turns++
    if (running) setImmediate(tick)
  }
  setImmediate(tick)
  const began = performance.now()
  const pieces = await Effect.runPromise(encodeCheckpointYielding(fleetSnapshotVersion, 1, nodes, { sliceMs: 5 }))
  const took = performance.now() - began
  running = false
  const text = pieces.join("")
  assert.equal(text, encodeCheckpoint(fleetSnapshotVersion, 1, nodes))
  // No piece holds more than a step's worth of values: nothing joins the whole text (ADR 0191).
  const longest = Math.max(...pieces.map((p) => p.length))
  assert.ok(longest <= 64 * 1024 && longest * 20 < text.length, `the longest piece is ${longest} of ${text.length} characters`)
  assert.ok(turns >= 10, `the loop turned ${turns} times during a ${took.toFixed(0)} ms encode`)
  // The longest gap is one slice (5 ms) plus a step's overshoot; a busy host may stretch it, not to the whole encode.
  assert.ok(longestGap < took / 2, `the longest wait of the loop was ${longestGap.toFixed(0)} ms of a ${took.toFixed(0)} ms encode`)
})

const ctx = { actor: "test", correlationId: "c", causationId: null, occurredAt: "2026-11-21T12:00:00.000Z" }
const idOf = (i: number) => `7a1d2c3b-4a59-4e61-8d7c-${String(i).padStart(12, "0")}`
const enroll = (fleet: Fleet, i: number) =>
  execute(fleet, idOf(i), {
    type: "Enroll", nodeId: idOf(i) as never, name: `n${i}` as never, driver: "fake-hardware", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {},
  }, ctx)

test("the log's follower saves checkpoints beside the stream and keeps folding it", async () => {
  await Effect.runPromise(Effect.provide(Effect.gen(function* () {
    const follower = new Fleet()
    const fiber = yield* Effect.forkChild(followLog(follower, makeFleetCheckpoints(follower), 5))
    // Another process's writes (a fleet of its own): the follower hears of them through the log.
    const writer = new Fleet()
    for (let i = 0; i < 40; i++) yield* enroll(writer, i)
    const checkpoints = yield* CheckpointStore
    let saved = Option.none<{ readonly position: number; readonly state: string }>()
    for (let waited = 0; waited < 5000 && (follower.nodes.size < 40 || Option.isNone(saved)); waited += 10) {
      yield* Effect.sleep("10 millis")
      saved = yield* checkpoints.load(fleetCheckpoint)
    }
    assert.equal(follower.nodes.size, 40, "every enrolled node was folded in")
    assert.ok(Option.isSome(saved), "a checkpoint was saved")
    const stored = JSON.parse(saved.value.state) as { position: number; count: number }
    assert.equal(stored.position, saved.value.position)
    assert.ok(stored.count >= 5 && stored.count <= 40, `the checkpoint holds the ${stored.count} nodes of its position`)
    yield* Fiber.interrupt(fiber)
  }), MemoryStores))
})

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
    const fiber = yield* Effect.forkChild(followLog(follower, makeFleetCheckpoints(follower), 10_000, (nodeId) => heard.push(nodeId)))
    for (let waited = 0; waited < 5000 && heard.length < 2; waited += 10) yield* Effect.sleep("10 millis")
    yield* Fiber.interrupt(fiber)
    assert.equal(follower.get(idOf(0))?.revision, 1, "node 0 caught up from its stream")
    assert.equal(follower.get(idOf(0))?.maintenance, true)
    assert.equal(follower.get(idOf(1))?.revision, 0)
    assert.deepEqual(heard.toSorted(), [idOf(0), idOf(1)], "each node reported once")
    assert.ok(follower.position > maintained!.position, "the follower's position moved past both nodes' events")
  }), MemoryStores))
})
