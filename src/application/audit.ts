// What auditors ask of the log: a node's full history, the node as it was at a past moment, and a
// rebuild of every projection from scratch. Works on any EventStore, with or without a server.
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import { fold, parseUuid } from "../domain/index.ts"
import { EventStore } from "../ports/index.ts"
import { fromStored, streamOf } from "./event-codec.ts"
import { InvalidInput, NodeNotFound, type NodeView } from "./node-service.ts"
import { Fleet } from "./projections/fleet.ts"
import { historyOf } from "./projections/history.ts"
import { toNodeView } from "./projections/node-view.ts"
import { catchUpAll, loadFleet } from "./projections/projector.ts"
import { saveFleet } from "./projections/fleet-checkpoints.ts"

/** Every event of a node, decoded, with its global position. */
export const nodeEvents = (nodeId: string) =>
  Effect.gen(function* () {
    const stored = yield* (yield* EventStore).readStream(streamOf(nodeId))
    return stored.map((s) => ({ ...fromStored(s), position: s.position }))
  })

export const historyFor = (nodeId: string) => Effect.map(nodeEvents(nodeId), (events) => historyOf(nodeId, events))

/** The node folded from its events up to and including `at`. */
export const stateAtFor = (nodeId: string, at: string) =>
  Effect.gen(function* () {
    const when = Date.parse(at)
    if (Number.isNaN(when)) return yield* Effect.fail(new InvalidInput({ reason: `"${at}" is not an ISO 8601 time.` }))
    const events = (yield* nodeEvents(nodeId)).filter((e) => Date.parse(e.meta.occurredAt) <= when)
    if (events.length === 0) return yield* Effect.fail(new NodeNotFound({ ref: `${nodeId} (it did not exist at ${at})` }))
    return toNodeView(fold(nodeId as never, events)) as NodeView
  })

/** A node id from a UUID or a name (names as they are now, from the projection). */
export const resolveOffline = (ref: string) =>
  Effect.gen(function* () {
    const asUuid = parseUuid(ref)
    if (E.isRight(asUuid)) return asUuid.right as string
    const fleet = yield* loadFleet
    const found = fleet.findByName(ref) ?? [...fleet.nodes.values()].find((n) => n.name === ref)
    if (found === undefined) return yield* Effect.fail(new NodeNotFound({ ref }))
    return found.nodeId
  })

export const historyOfRef = (ref: string) => Effect.flatMap(resolveOffline(ref), historyFor)
export const stateAtOfRef = (ref: string, at: string) => Effect.flatMap(resolveOffline(ref), (id) => stateAtFor(id, at))

export interface ReplayReport {
  readonly events: number
  readonly nodes: number
  readonly seconds: number
  readonly eventsPerSecond: number
  readonly countsByState: Readonly<Record<string, number>>
}

/** Rebuilds the fleet projection from the first event and saves it as the new checkpoint. */
export const replay = Effect.gen(function* () {
  const fleet = new Fleet()
  const started = performance.now()
  // The fleet is this command's alone until it is saved: folded in place, by stream (ADRs 0170, 0194).
  const events = yield* catchUpAll(fleet, true)
  const seconds = (performance.now() - started) / 1000
  yield* saveFleet(fleet)
  const report: ReplayReport = {
    events, nodes: fleet.list().length, seconds,
    eventsPerSecond: seconds > 0 ? Math.round(events / seconds) : events,
    countsByState: fleet.countsByState(),
  }
  return report
})
