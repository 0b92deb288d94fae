// Per-BMC pacing: operations on one BMC run one at a time, and each message to it starts at least
// `intervalMs` after the previous one ended (BMCs drop sessions when hammered). Different BMCs
// never wait for each other.
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Semaphore from "effect/Semaphore"

interface Lane {
  readonly permit: Semaphore.Semaphore
  lastEndedAt: number
}

export interface BmcPacer {
  /** Runs `operation` alone on `bmc`: the queue for the BMC is waited before it starts. */
  readonly exclusive: <A, E, R>(bmc: string, operation: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Runs one message to `bmc` no sooner than `intervalMs` after the previous one ended. */
  readonly spaced: <A, E, R>(bmc: string, intervalMs: number, message: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

export const makeBmcPacer = (): BmcPacer => {
  // One lane per BMC ever driven: a fleet's worth of small records.
  const lanes = new Map<string, Lane>()
  const laneOf = (bmc: string): Lane => {
    let lane = lanes.get(bmc)
    if (lane === undefined) {
      lane = { permit: Semaphore.makeUnsafe(1), lastEndedAt: Number.NEGATIVE_INFINITY }
      lanes.set(bmc, lane)
    }
    return lane
  }
  return {
    exclusive: (bmc, operation) => laneOf(bmc).permit.withPermit(operation),
    spaced: (bmc, intervalMs, message) => {
      const lane = laneOf(bmc)
      return Effect.gen(function* () {
        const wait = lane.lastEndedAt + intervalMs - (yield* Clock.currentTimeMillis)
        if (wait > 0) yield* Effect.sleep(wait)
        return yield* message
      }).pipe(Effect.ensuring(Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => { lane.lastEndedAt = t }))))
    },
  }
}
