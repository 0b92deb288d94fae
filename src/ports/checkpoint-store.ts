// CheckpointStore port: where projections keep a snapshot and the log position it reflects,
// so a restart catches up from there instead of replaying the whole log.
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { StoreUnavailable } from "./event-store.ts"

export interface Checkpoint {
  /** Global position of the last event folded into `state`. */
  readonly position: number
  /** The projection's serialised state (JSON text). */
  readonly state: string
}

/**
 * What `save` takes: the state whole, or in pieces whose concatenation is the text. A large state
 * (the fleet's, tens of MB at 100,000 nodes) comes in pieces so that no one joins it into one string
 * on the event loop: a store that writes a file writes them a megabyte at a time (ADR 0191).
 */
export interface CheckpointToSave {
  readonly position: number
  readonly state: string | ReadonlyArray<string>
}

/** The text of a state given whole or in pieces (for a store that needs it as one value). */
export const checkpointText = (state: CheckpointToSave["state"]): string => (typeof state === "string" ? state : state.join(""))

export class CheckpointStore extends Context.Service<CheckpointStore, {
  readonly load: (projection: string) => Effect.Effect<Option.Option<Checkpoint>, StoreUnavailable>
  readonly save: (projection: string, checkpoint: CheckpointToSave) => Effect.Effect<void, StoreUnavailable>
}>()("ironledger/CheckpointStore") {}
