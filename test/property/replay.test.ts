// Replays: the same log gives the same fleet every time, and what the store gives back (encoded,
// JSON text, decoded and upcast) folds to the same state as the events the domain produced.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import { makeMemoryEventStore } from "../../src/adapters/eventstore/memory.ts"
import { streamOf, toNewEvent } from "../../src/application/event-codec.ts"
import { Fleet } from "../../src/application/projections/fleet.ts"
import { catchUpAll } from "../../src/application/projections/projector.ts"
import { decodeEvent, encodeEvent, eventTypes, evolve, fold, initialState, type NodeEvent } from "../../src/domain/index.ts"
import { EventStore } from "../../src/ports/index.ts"
import { fleetLogArb, type LoggedEvent } from "../support/fleet-log.ts"

/** The fleet as the command path builds it: the domain's own event objects, applied as they happen. */
const liveFleet = (log: ReadonlyArray<LoggedEvent>): Fleet => {
  const fleet = new Fleet()
  for (const e of log) fleet.apply(e.nodeId, e, e.position)
  return fleet
}

/** A memory store holding the log, each node's events appended at the revision it expects. */
const storeOf = (log: ReadonlyArray<LoggedEvent>): EventStore["Service"] => {
  const store = makeMemoryEventStore()
  for (const e of log) {
    Effect.runSync(store.append(streamOf(e.nodeId), [toNewEvent(e.event, e.meta)], e.revision === 0 ? "no_stream" : e.revision - 1))
  }
  return store
}

const replayFrom = (store: EventStore["Service"]): Fleet => {
  const fleet = new Fleet()
  Effect.runSync(catchUpAll(fleet).pipe(Effect.provideService(EventStore, store)))
  return fleet
}

/** Stored positions are the store's own: compare nodes, not the fleets' positions. */
const nodesOf = (fleet: Fleet) => [...fleet.nodes.values()].sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1))

test("replaying the same stored log twice gives identical fleets, equal to the live one", () => {
  fc.assert(
    fc.property(fleetLogArb(), ({ log }) => {
      const store = storeOf(log)
      const first = replayFrom(store)
      const second = replayFrom(store)
      assert.deepEqual(second, first)
      assert.deepEqual(nodesOf(first), nodesOf(liveFleet(log)))
      assert.deepEqual(first.countsByState(), liveFleet(log).countsByState())
    }),
    { numRuns: 150 },
  )
})

test("evolve leaves the state it is given untouched, so old states can be kept and folded again", () => {
  fc.assert(
    fc.property(fleetLogArb(), ({ pools, log }) => {
      for (const { nodeId } of pools) {
        let state = initialState(nodeId)
        for (const e of log.filter((x) => x.nodeId === nodeId)) {
          const before = structuredClone(state)
          const after = evolve(state, e.event, e.meta)
          assert.deepEqual(state, before, `evolve changed the state it was given, on ${e.event.type}`)
          state = after
        }
      }
    }),
    { numRuns: 150 },
  )
})

/** What a store does to an event: encode, write as JSON text, read back, decode (and upcast). */
const throughJson = (event: NodeEvent): NodeEvent => {
  const decoded = decodeEvent(JSON.parse(JSON.stringify(encodeEvent(event))))
  if (E.isLeft(decoded)) assert.fail(`${event.type} did not decode: ${decoded.left}`)
  return decoded.right
}

test("persisted events, through encode, JSON and decode, fold to the live state", () => {
  fc.assert(
    fc.property(fleetLogArb(), ({ pools, log }) => {
      for (const { nodeId } of pools) {
        const events = log.filter((e) => e.nodeId === nodeId)
        const persisted = events.map((e) => ({ ...e, event: throughJson(e.event) }))
        assert.deepEqual(fold(nodeId, persisted), fold(nodeId, events))
      }
    }),
    { numRuns: 150 },
  )
})

test("the generated logs hold every event type", () => {
  // Guards the replays above against a generator that leaves some event types out of every log.
  const seen = new Set(fc.sample(fleetLogArb(), { numRuns: 1000, seed: 1 }).flatMap(({ log }) => log.map((e) => e.event.type)))
  assert.deepEqual(eventTypes.filter((t) => !seen.has(t)), [])
})
