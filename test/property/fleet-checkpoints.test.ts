// The fleet's checkpoints as a base and a delta (ADR 0203): whatever saves came when, and whatever
// another process saved as a base meanwhile, a fleet restored from them and folded on from their
// position equals the live one.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { MemoryStores } from "../../src/adapters/eventstore/memory.ts"
import { Fleet } from "../../src/application/projections/fleet.ts"
import { fleetCheckpoint, fleetDeltaCheckpoint, makeFleetCheckpoints, restoreFleet, saveFleet } from "../../src/application/projections/fleet-checkpoints.ts"
import { CheckpointStore } from "../../src/ports/index.ts"
import { fleetLogArb } from "../support/fleet-log.ts"

/**
 * After the event at this index: this process saves, or another one saves a base of its own, of the
 * log as it had it `lag` events before (a process whose copy runs behind).
 */
const saveArb = fc.record({ at: fc.nat(), by: fc.constantFrom("this process", "this process", "another process"), lag: fc.nat({ max: 5 }) })

test("a fleet restored from a base and a delta, folded on, equals the live one", async () => {
  await fc.assert(
    fc.asyncProperty(fleetLogArb(), fc.array(saveArb, { maxLength: 6 }), fc.constantFrom(0, 1 / 4, 1), async ({ log }, saves, share) => {
      const live = new Fleet()
      const kinds: Array<string> = []
      const restored = await Effect.runPromise(Effect.provide(Effect.gen(function* () {
        const checkpoints = makeFleetCheckpoints(live, share)
        const store = yield* CheckpointStore
        const order = saves.map((s) => ({ ...s, at: log.length === 0 ? 0 : s.at % (log.length + 1) })).sort((a, b) => a.at - b.at)
        let next = 0
        for (let i = 0; i <= log.length; i++) {
          for (; next < order.length && order[next]!.at === i; next++) {
            const before = Option.getOrNull(yield* store.load(fleetCheckpoint))?.position
            if (order[next]!.by === "another process") {
              const other = new Fleet()
              for (const e of log.slice(0, Math.max(0, i - order[next]!.lag))) other.apply(e.nodeId, e, e.position)
              yield* saveFleet(other)
            } else yield* checkpoints.save()
            kinds.push(Option.getOrNull(yield* store.load(fleetCheckpoint))?.position === before ? "delta" : "base")
          }
          const e = log[i]
          if (e !== undefined) live.apply(e.nodeId, e, e.position)
        }
        checkpoints.stop()
        return yield* restoreFleet
      }), MemoryStores))
      // As loadFleet's catch-up: the log after the restored position, nothing before it.
      const from = restored.position
      for (const e of log) if (e.position > from) assert.ok(restored.apply(e.nodeId, e, e.position), `no gap at ${e.nodeId}@${e.revision} after saves ${kinds.join(", ")}`)
      assert.equal(restored.position, live.position)
      assert.deepEqual([...restored.nodes.keys()], [...live.nodes.keys()])
      for (const [id, n] of live.nodes) assert.deepEqual(restored.nodes.get(id), n, `node ${id} after saves ${kinds.join(", ")}`)
      assert.deepEqual(restored.list(), live.list())
      assert.deepEqual(restored.countsByState(), live.countsByState())
    }),
    { numRuns: 300 },
  )
})

test("the first save is a base; a save with few nodes changed since it is a delta of only those", async () => {
  await Effect.runPromise(Effect.provide(Effect.gen(function* () {
    const log = fc.sample(fleetLogArb(), { numRuns: 30, seed: 11 }).map((s) => s.log).find((l) => new Set(l.map((e) => e.nodeId)).size >= 3)!
    const ids = [...new Set(log.map((e) => e.nodeId))]
    const live = new Fleet()
    const checkpoints = makeFleetCheckpoints(live, 1 / 2)
    const store = yield* CheckpointStore
    // Every node's first event, then a base.
    const firsts = ids.map((id) => log.find((e) => e.nodeId === id)!)
    for (const e of firsts) live.apply(e.nodeId, e, e.position)
    yield* checkpoints.save()
    assert.ok(Option.isSome(yield* store.load(fleetCheckpoint)), "the first save is a base")
    assert.ok(Option.isNone(yield* store.load(fleetDeltaCheckpoint)))
    // One node moves on: the next save holds it alone, beside the base it follows.
    const moved = log.find((e) => e.nodeId === ids[0] && e.revision === 1)
    assert.ok(moved !== undefined, "the sample's first node has a second event")
    live.apply(moved.nodeId, moved, Math.max(live.position + 1, moved.position))
    yield* checkpoints.save()
    const base = JSON.parse(Option.getOrThrow(yield* store.load(fleetCheckpoint)).state) as { position: number }
    const delta = JSON.parse(Option.getOrThrow(yield* store.load(fleetDeltaCheckpoint)).state) as { base: number; delta: { count: number; position: number } }
    assert.equal(delta.base, base.position)
    assert.equal(delta.delta.count, 1)
    assert.equal(delta.delta.position, live.position)
    checkpoints.stop()
  }), MemoryStores))
})
