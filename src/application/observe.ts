// The one place the application reports what it measured, through the Metrics port: the conductor
// and execute() call these, never a metrics library.
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { Metrics, type StepObservation } from "../ports/index.ts"

export const observeStep = (step: StepObservation) => Effect.gen(function* () { (yield* Metrics).stepFinished(step) })

export const observeWaitTimeout = (state: string) => Effect.gen(function* () { (yield* Metrics).waitTimedOut(state) })

/** Runs an append and reports its latency (a monotonic clock, sub-millisecond) and the position it reached. */
export const timedAppend = <A extends { readonly position: number }, E, R>(append: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeNanos
    const result = yield* append
    const elapsedMs = Number((yield* Clock.currentTimeNanos) - started) / 1e6
    ;(yield* Metrics).appended(elapsedMs, result.position)
    return result
  })
