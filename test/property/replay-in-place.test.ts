// loadFleet's catch-up folds the states it made itself in place and indexes them at the end
// (Fleet.applyUnshared): the fleet it builds, indexes and counts included, must equal the one the
// copying fold builds, and a state it did not make (one restored from a checkpoint) must never change.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import * as Effect from "effect/Effect"
import { makeMemoryEventStore } from "../../src/adapters/eventstore/memory.ts"
import { streamOf, toNewEvent } from "../../src/application/event-codec.ts"
import { Fleet } from "../../src/application/projections/fleet.ts"
import type { IdOrder } from "../../src/application/projections/id-order.ts"
import { catchUpAll, streamPageSize } from "../../src/application/projections/projector.ts"
import { EventStore } from "../../src/ports/index.ts"
import { fleetLogArb, type LoggedEvent } from "../support/fleet-log.ts"

const storeOf = (log: ReadonlyArray<LoggedEvent>): EventStore["Service"] => {
  const store = makeMemoryEventStore()
  for (const e of log) {
    Effect.runSync(store.append(streamOf(e.nodeId), [toNewEvent(e.event, e.meta)], e.revision === 0 ? "no_stream" : e.revision - 1))
  }
  return store
}

const catchUp = (fleet: Fleet, store: EventStore["Service"], unshared: boolean): Fleet => {
  Effect.runSync(catchUpAll(fleet, unshared).pipe(Effect.provideService(EventStore, store)))
  return fleet
}

const idsOf = (order: IdOrder) => {
  const ids: Array<string> = []
  order.walk(undefined, (id) => { ids.push(id); return true })
  return ids
}

/**
 * All a fleet holds, its private indexes included. The copying fold leaves a zero count and an empty
 * set behind for every state a node passed through; the deferred index does not: those are dropped.
 */
const contentOf = (fleet: Fleet) => ({
  position: fleet.position, nodes: fleet.nodes, byName: fleet["byName"], byPart: fleet["byPart"], allocatedIds: fleet["allocatedIds"], byInstance: fleet["byInstance"],
  counts: new Map([...fleet["counts"]].filter(([, n]) => n !== 0)),
  byState: new Map([...fleet["byState"]].filter(([, ids]) => ids.size > 0)),
  order: idsOf(fleet["order"]),
})

test("the in-place catch-up builds the same fleet as the copying one: states, indexes, counts", () => {
  fc.assert(
    fc.property(fleetLogArb(), ({ log }) => {
      const store = storeOf(log)
      const inPlace = catchUp(new Fleet(), store, true)
      const copied = catchUp(new Fleet(), store, false)
      // deepEqual walks the private indexes too (by name, MAC, instance, state, counts).
      assert.deepEqual(contentOf(inPlace), contentOf(copied))
      for (const n of copied.list()) {
        if (n.name !== null) assert.equal(inPlace.findByName(n.name)?.nodeId, n.nodeId)
        for (const p of n.ports) assert.equal(inPlace.findByMac(p.mac)?.nodeId, n.nodeId)
      }
    }),
    { numRuns: 150 },
  )
})

test("a log longer than a page of the read by stream is folded whole, page after page", () => {
  fc.assert(
    fc.property(fleetLogArb(2500), ({ log }) => {
      fc.pre(log.length > streamPageSize)
      const store = storeOf(log)
      assert.deepEqual(contentOf(catchUp(new Fleet(), store, true)), contentOf(catchUp(new Fleet(), store, false)))
    }),
    // A failing log of thousands of events is reported as found: shrinking it would take minutes.
    { numRuns: 10, endOnFailure: true },
  )
})

test("the in-place catch-up after a checkpoint leaves the checkpoint's states untouched", () => {
  fc.assert(
    fc.property(fleetLogArb().chain(({ log }) => fc.record({ log: fc.constant(log), cut: fc.nat({ max: log.length }) })), ({ log, cut }) => {
      const restored = catchUp(new Fleet(), storeOf(log.slice(0, cut)), false)
      const published = [...restored.nodes.values()]
      const asPublished = structuredClone(published)
      const resumed = catchUp(Fleet.fromStates(restored.position, published), storeOf(log), true)
      assert.deepEqual(published, asPublished)
      // The same resume, copying: equal to the last empty count and index entry.
      const again = catchUp(new Fleet(), storeOf(log.slice(0, cut)), false)
      const copied = catchUp(Fleet.fromStates(again.position, again.nodes.values()), storeOf(log), false)
      assert.deepEqual(contentOf(resumed), contentOf(copied))
      assert.deepEqual(resumed.nodes, catchUp(new Fleet(), storeOf(log), false).nodes)
    }),
    { numRuns: 100 },
  )
})

test("with a watcher the catch-up hands out states, so it copies: no state a watcher got changes", () => {
  fc.assert(
    fc.property(fleetLogArb(), ({ log }) => {
      const fleet = new Fleet()
      const heard: Array<{ state: unknown; copy: unknown }> = []
      fleet.watch((state) => heard.push({ state, copy: structuredClone(state) }))
      catchUp(fleet, storeOf(log), true)
      for (const h of heard) assert.deepEqual(h.state, h.copy)
      assert.equal(heard.length, log.length)
    }),
    { numRuns: 50 },
  )
})

test("a checkpoint whose states are behind its position leaves gaps: the in-place catch-up fills them from the streams as the copying one does", () => {
  fc.assert(
    fc.property(fleetLogArb().chain(({ log }) => fc.record({
      log: fc.constant(log), behind: fc.nat({ max: log.length }), ahead: fc.nat({ max: log.length }),
    })), ({ log, behind, ahead }) => {
      const [statesAt, positionAt] = [Math.min(behind, ahead), Math.max(behind, ahead)]
      const checkpoint = () => {
        const states = catchUp(new Fleet(), storeOf(log.slice(0, statesAt)), false)
        return Fleet.fromStates(catchUp(new Fleet(), storeOf(log.slice(0, positionAt)), false).position, states.nodes.values())
      }
      const inPlace = catchUp(checkpoint(), storeOf(log), true)
      const copied = catchUp(checkpoint(), storeOf(log), false)
      // (Both miss a node whose only events lie between the states and the position: no later
      // event of its shows the gap. Only the two ways of filling a gap are compared.)
      assert.deepEqual(contentOf(inPlace), contentOf(copied))
    }),
    { numRuns: 100 },
  )
})
