// Clock port: the service's time, so tests and replays can set it.
import { Context, type Effect } from "effect"

export class Clock extends Context.Service<Clock, {
  /** Milliseconds since the epoch. */
  readonly now: Effect.Effect<number>
}>()("ironledger/Clock") {}
