// The concurrent deploy limit: how many deploys hold a slot (from their first step to their end),
// counted only when a deploy would start and fewer deploying nodes than the limit cannot tell.
import type { Fleet } from "../projections/fleet.ts"
import { deployStarted } from "./plan.ts"

export const makeDeploySlots = (
  fleet: Fleet,
  limit: number,
  /** Deploys given a slot whose first step is not in the log yet. */
  starting: ReadonlySet<string>,
) => {
  const deploysInFlight = () => {
    let count = 0
    for (const state of ["deploying", "wait call-back"] as const) for (const n of fleet.inState(state)) if (deployStarted(n)) count++
    for (const id of starting) {
      const n = fleet.nodes.get(id)
      if (n !== undefined && !deployStarted(n)) count++
    }
    return count
  }

  /** Whether another deploy may start: with fewer deploying nodes than the limit, no count is needed. */
  const underDeployLimit = () =>
    fleet.countOf("deploying") + fleet.countOf("wait call-back") < limit ||
    deploysInFlight() < limit

  return { underDeployLimit }
}
