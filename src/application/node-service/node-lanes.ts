// One command at a time per node. A lane (a one-permit semaphore) exists only while a command holds
// or awaits it: a fleet of idle nodes keeps none, where a map of one lane per node ever commanded
// grew with the fleet for the life of the process (ADR 0157).
import * as Effect from "effect/Effect"
import * as Semaphore from "effect/Semaphore"

interface Lane { readonly semaphore: Semaphore.Semaphore; users: number }

export interface NodeLanes {
  /** Runs `effect` alone among the commands of `nodeId` passed through here. */
  readonly run: <A, E, R>(nodeId: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Lanes in use (held or awaited) now. */
  readonly size: () => number
}

export const makeNodeLanes = (): NodeLanes => {
  const lanes = new Map<string, Lane>()
  // Joining and leaving are uninterruptible (acquireUseRelease), so a lane is dropped exactly when its last user leaves.
  const join = (nodeId: string) => Effect.sync(() => {
    let lane = lanes.get(nodeId)
    if (lane === undefined) lanes.set(nodeId, lane = { semaphore: Semaphore.makeUnsafe(1), users: 0 })
    lane.users++
    return lane
  })
  const leave = (nodeId: string, lane: Lane) => Effect.sync(() => {
    if (--lane.users === 0) lanes.delete(nodeId)
  })
  return {
    run: (nodeId, effect) => Effect.acquireUseRelease(join(nodeId), (lane) => lane.semaphore.withPermit(effect), (lane) => leave(nodeId, lane)),
    size: () => lanes.size,
  }
}
