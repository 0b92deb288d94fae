// Keeps the Fleet projection in step with the log: start from the last checkpoint, catch up by pages,
// then follow live appends (including other processes'). Checkpoints are snapshots plus the position.
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { EventStore, type StoreUnavailable, type StoredEvent } from "../../ports/index.ts"
import { catchUp } from "../execute.ts"
import { fromStored, nodeIdOf } from "../event-codec.ts"
import type { NodeState } from "../../domain/index.ts"
import type { Fleet } from "./fleet.ts"
import { restoreFleet, type FleetCheckpoints } from "./fleet-checkpoints.ts"

// Pages of 2,000: a page (about 1 MB of rows and parsed events) dies young, in the young
// generation, where 20,000-event pages lived long enough to be promoted and grew the old space
// (ADR 0115: reading 100k events left 95 MB of anonymous RSS with 20,000-row pages, 39 MB with 1,000).
const pageSize = 2000
/**
 * The read by stream's pages are smaller: a page (about 0.7 MB of rows and parsed events) is live
 * while it is folded, and in the service's 8 MB semi-spaces 2,000-event pages had each scavenge copy
 * one and promote part of it. A first (cold) replay of a million events with 500: 2.9-3.0 s against
 * 4.0-5.6 s, scavenges 0.6 s against 1.5 s over two runs (ADR 0194).
 */
export const streamPageSize = 500
/**
 * The periodic checkpoint's rest between its 5 ms slices: a quarter of the loop at most. Back to
 * back, a save at 190,000 nodes under 64 polling readers took reads' p99 from ~20 to 55 ms; with
 * this rest, 40 ms (ADR 0191). A save at shutdown (and the audit's) runs its slices back to back.
 */
const periodicRestMs = 15

/**
 * Node ids for a read by stream, where a stream's events come together: its id string is made once,
 * so the fleet's lookups hash it once (each row brings its own copy of the stream id).
 */
class StreamIds {
  private streamId = ""
  private nodeId: string | null = null
  nodeIdOf(streamId: string): string | null {
    if (streamId !== this.streamId) {
      this.streamId = streamId
      this.nodeId = nodeIdOf(streamId)
    }
    return this.nodeId
  }
}

/**
 * Folds one stored event into the fleet: the node it was news to, and whether that node's stream
 * has a gap to fill from the store; null when it is no node's event or was folded in already
 * (this process's own writes are applied when they are made, before the log brings them back).
 */
const foldStored = (fleet: Fleet, stored: StoredEvent, own?: Set<NodeState>, ids?: StreamIds): { readonly nodeId: string; readonly gap: boolean } | null => {
  // `ids` comes with a read by stream: out of global order, the position moves once the whole read is folded.
  const position = ids === undefined ? stored.position : undefined
  const nodeId = ids === undefined ? nodeIdOf(stored.streamId) : ids.nodeIdOf(stored.streamId)
  if (nodeId === null || (fleet.nodes.get(nodeId)?.revision ?? -1) >= stored.revision) {
    if (position !== undefined) fleet.position = Math.max(fleet.position, position)
    return null
  }
  const recorded = fromStored(stored)
  const next = own === undefined ? fleet.apply(nodeId, recorded, position) : fleet.applyUnshared(nodeId, recorded, own, position)
  return { nodeId, gap: !next }
}

/**
 * Folds every event after the fleet's position, page by page, without an Effect per event (an
 * unshared fleet built from nothing: stream by stream first, ADR 0194).
 * `unshared`: nothing else holds the fleet or any of its states until this returns (loadFleet's own
 * new fleet), so the states this catch-up makes are folded in place and indexed once at the end
 * (Fleet.applyUnshared, ADR 0170).
 */
export const catchUpAll = (fleet: Fleet, unshared = false): Effect.Effect<number, StoreUnavailable, EventStore> =>
  unshared
    ? Effect.suspend(() => {
      // The states this catch-up made itself; indexed and dropped however it ends, never written after.
      const own = new Set<NodeState>()
      return Effect.ensuring(foldPages(fleet, own), Effect.sync(() => fleet.endUnshared(own)))
    })
    : foldPages(fleet, undefined)

const foldPages = (fleet: Fleet, own: Set<NodeState> | undefined): Effect.Effect<number, StoreUnavailable, EventStore> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    let count = 0
    // A fleet built from nothing folds the log stream by stream where the store can read it so
    // (ADR 0194): each node's history is folded while its state is young, instead of its state being
    // promoted and then written again by every round of events. Then the global read goes on after
    // the head that read stopped at.
    if (own !== undefined && fleet.position < 0 && store.readByStream !== undefined) {
      const ids = new StreamIds()
      let page = yield* store.readByStream(null, streamPageSize)
      for (;;) {
        for (const stored of page.events) {
          const folded = foldStored(fleet, stored, own, ids)
          if (folded?.gap) yield* catchUp(fleet, folded.nodeId, own)
        }
        count += page.events.length
        if (page.next === null) break
        page = yield* store.readByStream(page.next, streamPageSize)
      }
      fleet.position = Math.max(fleet.position, page.upTo)
    }
    for (;;) {
      const page = yield* store.readAll({ after: fleet.position, limit: pageSize, hashes: false })
      for (const stored of page) {
        const folded = foldStored(fleet, stored, own)
        if (folded?.gap) yield* catchUp(fleet, folded.nodeId, own)
      }
      count += page.length
      if (page.length < pageSize) return count
    }
  })

/** The fleet as of the last checkpoints (or empty), caught up with the log's head. */
export const loadFleet = Effect.gen(function* () {
  const fleet = yield* restoreFleet
  yield* catchUpAll(fleet, true)
  return fleet
})

/**
 * Follows the log from the fleet's position for as long as it runs; checkpoints every `every` events,
 * or every as many events as the fleet has nodes when that is more: a base costs time in proportion
 * to the fleet, so spacing saves in proportion keeps its cost per event flat (ADR 0115), and the saves
 * between bases are deltas (ADR 0203). `onNodeEvent` hears of node events this process did not write
 * itself (the API, other conductors).
 */
export const followLog = (fleet: Fleet, saves: FleetCheckpoints, every = 10_000, onNodeEvent: (nodeId: string) => void = () => {}) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    let sinceCheckpoint = 0
    // A checkpoint is saved beside the log's stream, not in it: the events keep being folded in while
    // it is encoded; one save at a time, and the next one is due `every` events after it began.
    let saving = false
    const save = saves.save(periodicRestMs).pipe(
      Effect.catchCause((cause) => Effect.logWarning("fleet checkpoint not saved; the next one is due in as many events", cause)),
      Effect.ensuring(Effect.sync(() => { saving = false })),
    )
    // A page of the log at a time, with no Effect per event: most of the events are this process's
    // own, folded in already, and an Effect per event outlived the young generation often enough to
    // be a tenth of what the lifecycles promote (ADR 0111, "What a lifecycle promotes").
    yield* store.subscribeAll(fleet.position).pipe(
      Stream.runForEachArray((page) => {
        // A node whose stream has a gap is caught up from the store once, after the page.
        let gapped: Set<string> | undefined
        let due = false
        for (const stored of page) {
          const folded = foldStored(fleet, stored)
          if (folded?.gap === true) (gapped ??= new Set()).add(folded.nodeId)
          else if (folded !== null) onNodeEvent(folded.nodeId)
          if (++sinceCheckpoint >= Math.max(every, fleet.nodes.size) && !saving) {
            sinceCheckpoint = 0
            saving = due = true
          }
        }
        const caughtUp = gapped === undefined
          ? Effect.void
          : Effect.forEach(gapped, (nodeId) => Effect.map(catchUp(fleet, nodeId), () => onNodeEvent(nodeId)), { discard: true })
        return due ? Effect.andThen(caughtUp, Effect.forkChild(save)) : caughtUp
      }),
    )
  })
