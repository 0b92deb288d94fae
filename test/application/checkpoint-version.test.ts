// A projection checkpoint written by a build with another state shape is ignored: the fleet is
// folded from the log again rather than restored into the wrong shape.
import { test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import { MemoryStores } from "../../src/adapters/eventstore/memory.ts"
import { execute } from "../../src/application/execute.ts"
import { Fleet, fleetSnapshotVersion } from "../../src/application/projections/fleet.ts"
import { loadFleet } from "../../src/application/projections/projector.ts"
import { fleetCheckpoint, saveFleet } from "../../src/application/projections/fleet-checkpoints.ts"
import { CheckpointStore } from "../../src/ports/index.ts"

const nodeId = "6f1d2c3b-4a59-4e61-8d7c-2b3a4f5e6d7c"
const ctx = { actor: "test", correlationId: "c", causationId: null, occurredAt: "2026-11-21T12:00:00.000Z" }

const enrolled = Effect.gen(function* () {
  yield* execute(new Fleet(), nodeId, {
    type: "Enroll", nodeId: nodeId as never, name: null, driver: "fake-hardware", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {},
  }, ctx)
})

test("a checkpoint of another version is ignored and the fleet is folded from the log", async () => {
  const fleet = await Effect.runPromise(Effect.provide(Effect.gen(function* () {
    yield* enrolled
    yield* (yield* CheckpointStore).save(fleetCheckpoint, { position: 999, state: JSON.stringify({ version: fleetSnapshotVersion - 1, position: 999, nodes: [] }) })
    return yield* loadFleet
  }), MemoryStores))
  assert.equal(fleet.get(nodeId)?.provisionState, "enroll")
  assert.ok(fleet.position < 999, "the position came from the log, not the stale checkpoint")
})

test("a checkpoint of this version is restored, not folded again", async () => {
  const fleet = await Effect.runPromise(Effect.provide(Effect.gen(function* () {
    yield* enrolled
    yield* saveFleet(yield* loadFleet)
    // Tamper with the saved state: a restore shows the tampering, a refold would not.
    const saved = JSON.parse((yield* (yield* CheckpointStore).load(fleetCheckpoint)).pipe((o) => (o._tag === "Some" ? o.value.state : "")))
    saved.columns.name = { values: ["from-the-checkpoint"] }
    yield* (yield* CheckpointStore).save(fleetCheckpoint, { position: saved.position, state: JSON.stringify(saved) })
    return yield* loadFleet
  }), MemoryStores))
  assert.equal(fleet.get(nodeId)?.name, "from-the-checkpoint")
})
