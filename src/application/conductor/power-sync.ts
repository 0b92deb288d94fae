// Power sync (Ironic's): a node someone powered by hand (or that crashed) shows its real power
// state. Only idle nodes are asked, at most 8 BMCs at a time, and their turns are spread evenly
// over the pass (`spreadMs`) so that 10,000 BMCs are a steady trickle, not a burst that crowds out
// provisioning (ADR 0125); a change is recorded as an observation, never acted on. A BMC that fails `maxFailures` syncs in a row puts its node in maintenance with
// fault "power failure"; the first sync that reaches it again lifts both (Ironic's
// power_state_sync_max_retries and power failure recovery).
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
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

/** Nodes whose BMC a sync asks: idle, enrolled past "enroll", nothing running on them. */
const idle = <R>(n: NodeState, hooks: PowerSyncHooks<R>) =>
  !n.deleted && !hooks.busy(n.nodeId) && n.pendingSteps.length === 0 && n.targetProvisionState === null && n.provisionState !== "enroll"

/** How often a spread pass starts the BMCs whose turn has come. */
const tickMs = 100

export interface PowerSyncPace {
  /** The BMCs' turns are spread evenly over this long; 0: all at once (as many at a time as allowed). */
  readonly spreadMs: number
  /** At most this many BMCs are asked at a time. */
  readonly concurrency: number
}

export const makePowerSync = <R>(fleet: Fleet, registry: Registry, hooks: PowerSyncHooks<R>, pace: PowerSyncPace = { spreadMs: 0, concurrency: 8 }): Effect.Effect<void, never, R | Secrets> => {
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
  const syncOne = (n: NodeState) =>
    E.match(
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
    )
  const turn = (planned: NodeState) => Effect.suspend(() => {
    // Looked at again at its turn: an operation may have started on it since the pass began.
    const n = fleet.nodes.get(planned.nodeId)
    return n !== undefined && idle(n, hooks) ? syncOne(n) : Effect.void
  })
  return Effect.gen(function* () {
    // The fleet is walked a tick's share at a time, not all at the pass's start (ADR 0181): at
    // 100,000 nodes one walk choosing the idle ones held the event loop for tens of ms. A Map's
    // iterator goes on past entries added meanwhile, so nodes enrolled during the pass are asked too.
    const walk = fleet.nodes.values()
    const total = fleet.nodes.size
    const started = yield* Clock.currentTimeMillis
    // One timer per tick, not per BMC: each tick starts the BMCs whose turn has come.
    const ticks = Math.max(1, Math.min(total, Math.floor(pace.spreadMs / tickMs)))
    for (let t = 0; t < ticks; t++) {
      const wait = started + (t * pace.spreadMs) / ticks - (yield* Clock.currentTimeMillis)
      if (wait >= 1) yield* Effect.sleep(`${Math.floor(wait)} millis`)
      const share = t === ticks - 1 ? Infinity : Math.floor(((t + 1) * total) / ticks) - Math.floor((t * total) / ticks)
      const slice: Array<NodeState> = []
      for (let k = 0; k < share; k++) {
        const next = walk.next()
        if (next.done === true) break
        if (idle(next.value, hooks)) slice.push(next.value)
      }
      yield* Effect.forEach(slice, turn, { concurrency: pace.concurrency, discard: true })
    }
  })
}
