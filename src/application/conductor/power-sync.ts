// Power sync (Ironic's): a node someone powered by hand (or that crashed) shows its real power
// state. Only idle nodes are asked, 8 BMCs at a time; a change is recorded as an observation,
// never acted on.
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
}

export const makePowerSync = <R>(fleet: Fleet, registry: Registry, hooks: PowerSyncHooks<R>): Effect.Effect<void, never, R | Secrets> =>
  Effect.suspend(() => Effect.forEach(
    [...fleet.nodes.values()].filter((n) => !n.deleted && !hooks.busy(n.nodeId) && n.pendingSteps.length === 0 &&
      n.targetProvisionState === null && n.provisionState !== "enroll"),
    (n) => E.match(
      (why: string) => Effect.fail({ message: why }),
      (hw: NodeHardware) => hw.power.status(n),
    )(registry.resolve(n)).pipe(
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
