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

export class CheckpointStore extends Context.Service<CheckpointStore, {
  readonly load: (projection: string) => Effect.Effect<Option.Option<Checkpoint>, StoreUnavailable>
  readonly save: (projection: string, checkpoint: Checkpoint) => Effect.Effect<void, StoreUnavailable>
}>()("ironledger/CheckpointStore") {}
