// The whole fleet as it was at a past instant: every node folded from its events recorded up to
// then (ADR 0031). Read from the log, not from the live projection, so any instant can be asked.
import * as Effect from "effect/Effect"
import type { NodeState } from "../domain/index.ts"
import { EventStore } from "../ports/index.ts"
import { fromStored, nodeIdOf } from "./event-codec.ts"
import { InvalidInput } from "./node-service.ts"
import { Fleet, instanceUuidOf } from "./projections/fleet.ts"

export interface FleetNodeAt {
  readonly uuid: string
  readonly name: string | null
  readonly provisionState: string
  readonly powerState: string | null
  readonly maintenance: boolean
  readonly instanceUuid: string | null
}

export interface FleetAt {
  readonly at: string
  readonly countsByState: Readonly<Record<string, number>>
  readonly nodes: ReadonlyArray<FleetNodeAt>
}

const nodeAt = (n: NodeState): FleetNodeAt => ({
  uuid: n.nodeId, name: n.name, provisionState: n.provisionState, powerState: n.powerState,
  maintenance: n.maintenance, instanceUuid: instanceUuidOf(n),
})

/** What `fleet --at` shows of a fleet projection: counts by state and every live node, by uuid. */
export const fleetView = (fleet: Fleet, at: string): FleetAt => ({
  at, countsByState: fleet.countsByState(), nodes: fleet.list().map(nodeAt),
})

const pageSize = 20_000

/** The fleet at `at` (ISO 8601): nodes enrolled by then, each in the state its events up to then give. */
export const fleetAt = (at: string) =>
  Effect.gen(function* () {
    const when = Date.parse(at)
    if (Number.isNaN(when)) return yield* Effect.fail(new InvalidInput({ reason: `"${at}" is not an ISO 8601 time.` }))
    const store = yield* EventStore
    const fleet = new Fleet()
    // A node's events are taken up to its first one after the instant (a stream is in time order).
    const past = new Set<string>()
    let after = -1
    for (;;) {
      const page = yield* store.readAll({ after, limit: pageSize })
      for (const stored of page) {
        const nodeId = nodeIdOf(stored.streamId)
        if (nodeId === null || past.has(nodeId)) continue
        if (Date.parse(stored.meta.occurredAt) > when) past.add(nodeId)
        else fleet.apply(nodeId, fromStored(stored), stored.position)
      }
      if (page.length < pageSize) break
      after = page[page.length - 1]!.position
    }
    return fleetView(fleet, new Date(when).toISOString())
  })
