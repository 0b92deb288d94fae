// The fleet's checkpoints (ADR 0203): a base holding every node, and a delta holding the nodes changed
// since that base. A periodic save writes the delta while it stays small, so its cost follows what
// moved, not the fleet: at 100,000 nodes a base took 1.7-6.7 s of the loop's slices and left a
// 28 MB text to collect, for a save that often had a few thousand nodes to say. A restore takes the
// base, then the delta when it names that base, then folds the log from where the delta ends.
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Semaphore from "effect/Semaphore"
import type { NodeState } from "../../domain/index.ts"
import { CheckpointStore } from "../../ports/index.ts"
import { Fleet, fleetSnapshotVersion } from "./fleet.ts"
import { decodeCheckpoint, encodeCheckpointYielding, type FleetColumns } from "./fleet-checkpoint.ts"

export const fleetCheckpoint = "fleet"
export const fleetDeltaCheckpoint = "fleet-delta"

/** A delta as stored: the base's position it follows, and the changed nodes' columns. */
interface StoredDelta {
  readonly base: number
  readonly delta: FleetColumns
}

/**
 * A delta is written while it holds at most this share of the fleet; past it, a new base. A restore
 * then decodes at most a quarter more than the base alone.
 */
const defaultDeltaShare = 1 / 4

const saveStates = (name: string, position: number, states: ReadonlyArray<NodeState>, restMs: number, base?: number) =>
  Effect.gen(function* () {
    const pieces = yield* encodeCheckpointYielding(fleetSnapshotVersion, position, states, { restMs })
    const state = base === undefined ? pieces : [`{"base":${base},"delta":`, ...pieces, "}"]
    yield* (yield* CheckpointStore).save(name, { position, state })
  })

/**
 * Saves a base of the fleet as it is now: its node states are taken at one position (they are
 * immutable), then encoded in slices with turns of the event loop between them (ADR 0180), `restMs`
 * apart (ADR 0191). Any delta saved before it no longer names the base, and is passed over.
 */
export const saveFleet = (fleet: Fleet, restMs = 0) =>
  Effect.suspend(() => saveStates(fleetCheckpoint, fleet.position, [...fleet.nodes.values()], restMs))

/** The fleet as its checkpoints hold it, or a new fleet when there is none of this build's shape. */
export const restoreFleet = Effect.gen(function* () {
  const checkpoints = yield* CheckpointStore
  const saved = yield* checkpoints.load(fleetCheckpoint)
  const base = Option.map(saved, (c) => JSON.parse(c.state) as FleetColumns)
  // A checkpoint from a build with another state shape is worth nothing: fold the log again.
  if (Option.isNone(base) || base.value.version !== fleetSnapshotVersion) return new Fleet()
  const states = decodeCheckpoint(base.value)
  const delta = Option.map(yield* checkpoints.load(fleetDeltaCheckpoint), (c) => JSON.parse(c.state) as StoredDelta)
  if (Option.isNone(delta) || delta.value.base !== base.value.position || delta.value.delta.version !== fleetSnapshotVersion) {
    return Fleet.fromStates(base.value.position, states)
  }
  // The changed nodes take their places in the base's order; nodes new since it follow, as they came.
  const at = new Map<string, number>()
  for (let i = 0; i < states.length; i++) at.set(states[i]!.nodeId, i)
  for (const n of decodeCheckpoint(delta.value.delta)) {
    const i = at.get(n.nodeId)
    if (i === undefined) states.push(n)
    else states[i] = n
  }
  return Fleet.fromStates(delta.value.delta.position, states)
})

export interface FleetCheckpoints {
  /** A delta when the nodes changed since this process's last base are few enough, else a base. */
  readonly save: (restMs?: number) => Effect.Effect<void, unknown, CheckpointStore>
  readonly stop: () => void
}

/**
 * This process's checkpoints of `fleet`. It knows which nodes changed since a base only for a base
 * it saved itself, so its first save is a base. Saves run one at a time: a base's set of changes
 * begins when its states are taken, and is the one a delta may follow only once the base is written.
 */
export const makeFleetCheckpoints = (fleet: Fleet, deltaShare = defaultDeltaShare): FleetCheckpoints => {
  let sinceBase: Set<string> | null = null
  let sinceSaving: Set<string> | null = null
  let basePosition = -1
  const stop = fleet.watch((n) => {
    sinceBase?.add(n.nodeId)
    sinceSaving?.add(n.nodeId)
  })
  const oneAtATime = Semaphore.makeUnsafe(1)
  const saveOnce = (restMs: number) =>
    Effect.suspend(() => {
      const position = fleet.position
      const changed = sinceBase
      if (changed !== null && changed.size <= fleet.nodes.size * deltaShare) {
        const states = Array.from(changed, (id) => fleet.nodes.get(id)!)
        return saveStates(fleetDeltaCheckpoint, position, states, restMs, basePosition)
      }
      const fresh = new Set<string>()
      sinceSaving = fresh
      return saveStates(fleetCheckpoint, position, [...fleet.nodes.values()], restMs).pipe(
        Effect.tap(() => Effect.sync(() => { sinceBase = fresh; basePosition = position })),
        Effect.ensuring(Effect.sync(() => { sinceSaving = null })),
      )
    })
  return { save: (restMs = 0) => oneAtATime.withPermit(saveOnce(restMs)), stop }
}
