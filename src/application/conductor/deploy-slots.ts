// The concurrent deploy limit: how many deploys hold a slot (from their first step to their end).
// The started deploys are kept as a set the fleet updates on every node change, so asking costs
// the same with ten queued deploys as with ten thousand (ADR 0125).
import type { NodeState } from "../../domain/index.ts"
import type { Fleet } from "../projections/fleet.ts"
import { deployStarted } from "./plan.ts"

export const makeDeploySlots = (
  fleet: Fleet,
  limit: number,
  /** Deploys given a slot whose first step is not in the log yet. */
  starting: ReadonlySet<string>,
) => {
  const started = new Set<string>()
  const track = (n: NodeState) => {
    if (!n.deleted && deployStarted(n)) started.add(n.nodeId)
    else started.delete(n.nodeId)
  }
  for (const state of ["deploying", "wait call-back"] as const) for (const n of fleet.inState(state)) track(n)
  const stop = fleet.watch(track)

  const deploysInFlight = () => {
    let count = started.size
    for (const id of starting) if (!started.has(id)) count++
    return count
  }

  /** How many more deploys may start now. */
  const freeSlots = () => Math.max(0, limit - deploysInFlight())

  /** Whether another deploy may start. */
  const underDeployLimit = () => freeSlots() > 0

  return { underDeployLimit, freeSlots, stop }
}
