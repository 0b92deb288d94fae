// Power sync (Ironic's): a node someone powered by hand (or that crashed) shows its real power
// state. Only idle nodes are asked, 8 BMCs at a time; a change is recorded as an observation,
// never acted on. A BMC that fails `maxFailures` syncs in a row puts its node in maintenance with
// fault "power failure"; the first sync that reaches it again lifts both (Ironic's
// power_state_sync_max_retries and power failure recovery).
import { Effect } from "effect"
import * as E from "fp-ts/lib/Either.js"
import type { NodeState } from "../../domain/index.ts"
import type { ChassisPower, Secrets } from "../../ports/index.ts"
import type { NodeHardware } from "../hardware/interfaces.ts"
import type { Registry } from "../hardware/registry.ts"
import type { Fleet } from "../projections/fleet.ts"

export interface PowerSyncHooks<R> {
  /** The conductor is working on the node: leave it alone. */
  readonly busy: (nodeId: string) => boolean
  readonly observe: (n: NodeState, power: ChassisPower) => Effect.Effect<void, unknown, R>
  /** The BMC failed `maxFailures` syncs in a row: record the fault. */
  readonly fault?: (n: NodeState, reason: string) => Effect.Effect<void, unknown, R>
  /** The BMC answers again after a power failure fault: clear it. */
  readonly recovered?: (n: NodeState) => Effect.Effect<void, unknown, R>
}

/** Ironic's power_state_sync_max_retries default. */
export const maxPowerSyncFailures = 3

export const makePowerSync = <R>(fleet: Fleet, registry: Registry, hooks: PowerSyncHooks<R>): Effect.Effect<void, never, R | Secrets> => {
  const failures = new Map<string, number>()
  const failed = (n: NodeState, message: string) =>
    Effect.suspend(() => {
      const count = (failures.get(n.nodeId) ?? 0) + 1
      failures.set(n.nodeId, count)
      const now = fleet.nodes.get(n.nodeId)
      if (count < maxPowerSyncFailures || hooks.fault === undefined || now === undefined || (now.fault ?? null) !== null || now.maintenance) return Effect.void
      return hooks.fault(now, `During sync_power_state, the BMC of node ${n.nodeId} could not be reached ${count} times in a row; ` +
        `switching the node to maintenance mode. Error: ${message}`)
    })
  return Effect.suspend(() => Effect.forEach(
    [...fleet.nodes.values()].filter((n) => !n.deleted && !hooks.busy(n.nodeId) && n.pendingSteps.length === 0 &&
      n.targetProvisionState === null && n.provisionState !== "enroll"),
    (n) => E.match(
      (why: string) => Effect.fail({ message: why }),
      (hw: NodeHardware) => hw.power.status(n),
    )(registry.resolve(n)).pipe(
      // Only the BMC's own failure counts towards a power failure, not a refused record after it.
      Effect.tapError((e) => Effect.ignore(failed(n, String((e as { message?: unknown })?.message ?? e)))),
      Effect.tap(() => Effect.suspend(() => {
        failures.delete(n.nodeId)
        const now = fleet.nodes.get(n.nodeId)
        return now?.fault === "power failure" && hooks.recovered !== undefined ? hooks.recovered(now) : Effect.void
      })),
      Effect.flatMap((power) => {
        const now = fleet.nodes.get(n.nodeId)
        // Compared again after the (slow) BMC call: the node may have moved meanwhile.
        return now === undefined || now.powerState === power || now.pendingSteps.length > 0 || hooks.busy(n.nodeId)
          ? Effect.void
          : hooks.observe(now, power)
      }),
      Effect.catchCause((cause) => Effect.logWarning(`power sync: node ${n.nodeId}`, cause)),
    ),
    { concurrency: 8, discard: true },
  ))
}
