// The wall clock.
import { Effect, Layer } from "effect"
import { Clock } from "../../ports/index.ts"

export const SystemClock = Layer.succeed(Clock, { now: Effect.sync(() => Date.now()) })
