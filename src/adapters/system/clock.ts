// The wall clock, and a settable one for tests and replays.
import { Effect, Layer } from "effect"
import { Clock } from "../../ports/index.ts"

export const SystemClock = Layer.succeed(Clock, { now: Effect.sync(() => Date.now()) })

/** A clock that only moves when told to. */
export const manualClock = (start: number) => {
  let now = start
  return {
    layer: Layer.succeed(Clock, { now: Effect.sync(() => now) }),
    advance: (ms: number) => { now += ms },
    set: (ms: number) => { now = ms },
  }
}
