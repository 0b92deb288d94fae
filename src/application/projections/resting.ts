// Nodes go to rest as their writes stop (NodeTable.rest, ADR 0200): a node written in none of the
// last full period is kept as text from then on, until its next write.
import * as Effect from "effect/Effect"
import type { Fleet } from "./fleet.ts"

export interface RestPace {
  /** A node rests once a whole period has passed without a write to it: after one to two periods. */
  readonly periodMs: number
  /** At most `perStep` nodes are put at rest every `stepMs`: each is a JSON text of a few us, and a fleet restored at start-up has them all due at once. */
  readonly stepMs: number
  readonly perStep: number
}

export const defaultRestPace: RestPace = { periodMs: 5000, stepMs: 100, perStep: 500 }

/** Runs for as long as the application does. */
export const restNodes = (fleet: Fleet, pace: RestPace = defaultRestPace) =>
  Effect.gen(function* () {
    let sincePeriod = 0
    for (;;) {
      yield* Effect.sleep(`${pace.stepMs} millis`)
      sincePeriod += pace.stepMs
      if (sincePeriod >= pace.periodMs) {
        sincePeriod = 0
        fleet.nodes.nextPeriod()
      }
      fleet.nodes.rest(pace.perStep)
    }
  })
