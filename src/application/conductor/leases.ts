// A conductor's leases on nodes (ADR 0010): taken or renewed by an append to the node's stream, kept
// alive during a long step, and a step interrupted rather than carried on once another holds it.
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { pendingStep, type NodeCommand, type NodeState } from "../../domain/index.ts"
import type { EventStore, Ids, StoreUnavailable } from "../../ports/index.ts"
import { Refused, type Conflict } from "../node-service.ts"
import type { Fleet } from "../projections/fleet.ts"

/** Another conductor took the node (our lease ran out) while we were carrying out one of its steps. */
export class LeaseLost extends Data.TaggedError("LeaseLost")<{ readonly nodeId: string; readonly step: string }> {}

export const makeLeases = (
  fleet: Fleet,
  config: { readonly name: string; readonly leaseTtlMs: number },
  /** Records a command on the node as the log has it now. */
  record: (n: NodeState, command: NodeCommand) => Effect.Effect<unknown, Refused | Conflict | StoreUnavailable, EventStore | Ids>,
) => {
  /**
   * Takes the node's lease, or renews it when half of it has run out: "kept" (ours, nothing
   * written), "taken" (our LeaseAcquired appended), "refused" (another conductor holds it).
   */
  const holdLease = (n: NodeState) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const mine = n.lease?.holder === config.name
      if (mine && Date.parse(n.lease!.expiresAt) - now > config.leaseTtlMs / 2) return "kept" as const
      const taken = yield* Effect.result(record(n, {
        type: "AcquireLease", holder: config.name,
        now: new Date(now).toISOString(), expiresAt: new Date(now + config.leaseTtlMs).toISOString(),
      }))
      if (taken._tag === "Success") return "taken" as const
      // Anything but a refusal (the store) is not an answer.
      if (taken.failure instanceof Refused) return "refused" as const
      return yield* Effect.fail(taken.failure)
    })

  /**
   * Keeps the lease alive during a long step (an image write can outlast it). Renews only while
   * the step is still pending; if another conductor took the node meanwhile (our lease ran out),
   * the step is interrupted rather than carried on beside the new holder. A conductor cut off from
   * the store (or too slow to renew) interrupts the step itself while its lease still runs: past
   * that instant another conductor may take the node, and two must never act on one BMC.
   */
  const renewingLease = <A, E, R>(nodeId: string, step: string, work: Effect.Effect<A, E, R>) => {
    const tick = Math.max(1, Math.floor(config.leaseTtlMs / 3))
    const ourLeaseEnd = () => {
      const n = fleet.nodes.get(nodeId)
      return n?.lease?.holder === config.name ? Date.parse(n.lease.expiresAt) : 0
    }
    // Checked again right before the step: a process stalled since it took or kept the lease (a
    // starved event loop) must not start acting on a BMC as its lease runs out.
    const stillOurs = Effect.gen(function* () {
      if (ourLeaseEnd() - (yield* Clock.currentTimeMillis) <= tick) return yield* Effect.fail(new LeaseLost({ nodeId, step }))
    })
    return Effect.andThen(stillOurs, Effect.raceFirst(work, Effect.forever(Effect.gen(function* () {
      yield* Effect.sleep(`${tick} millis`)
      const n = fleet.nodes.get(nodeId)
      if (n === undefined || pendingStep(n, step) === undefined) return yield* Effect.fail(new LeaseLost({ nodeId, step }))
      const left = ourLeaseEnd() - (yield* Clock.currentTimeMillis)
      const held = yield* Effect.result(Effect.timeout(holdLease(n), Math.max(1, left - 1)))
      if (held._tag === "Success" && held.success === "refused") return yield* Effect.fail(new LeaseLost({ nodeId, step }))
      // Another tick may not come before the lease ends: stop acting now.
      if (ourLeaseEnd() - (yield* Clock.currentTimeMillis) <= tick) return yield* Effect.fail(new LeaseLost({ nodeId, step }))
    }))))
  }

  return { holdLease, renewingLease }
}
