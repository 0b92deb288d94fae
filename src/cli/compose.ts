// The one composition root: the event store, clock, ids and secrets, the hardware types the service
// enables (vendors registered in ./hardware.ts), and the application over them. `serve` adds the
// HTTP API on top, `conductor` runs it bare, the application's tests and the benchmarks use it
// in-process with their own stores and hardware.
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { makeApplication, type Application, type ApplicationConfig } from "../application/live.ts"
import { makeRegistry, type EnabledHardware } from "../application/hardware/registry.ts"
import { Metrics, type CheckpointStore, type EventStore, type Ids, type MetricsShape, type Secrets } from "../ports/index.ts"
import type { HardwareSetup } from "./hardware.ts"
import { effectLoggerLayer, type PinoLogger } from "../adapters/logging/pino.ts"
import { background, laneLayer } from "../adapters/system/background.ts"

export type Services = EventStore | CheckpointStore | Ids | Secrets

export interface ComposeOptions {
  readonly services: Layer.Layer<Services, unknown>
  readonly hardware: HardwareSetup
  readonly enabled?: EnabledHardware
  readonly config: ApplicationConfig
  /** Where the application reports steps, time-outs and appends; default: nowhere. */
  readonly metrics?: MetricsShape
  /** Where Effect's log lines (the conductor's warnings) go, as structured lines; default: Effect's console logger. */
  readonly logger?: PinoLogger
}

export interface Composed {
  readonly app: Application
  /** Runs an Effect with the composed services. */
  readonly run: <A, E>(eff: Effect.Effect<A, E, Services>) => Promise<A>
  /** Starts an Effect with the composed services in the background (a notary, a benchmark's load). */
  readonly runFork: <A, E>(eff: Effect.Effect<A, E, Services>) => Fiber.Fiber<A, E>
  /** Stops the conductor and the projections, then the hardware. */
  readonly close: () => Promise<void>
}

export const compose = async (options: ComposeOptions): Promise<Composed> => {
  const scope = await Effect.runPromise(Scope.make())
  const close = async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await options.hardware.close()
  }
  try {
    const registry = makeRegistry(options.hardware.vendors, options.enabled)
    const services = Layer.mergeAll(
      options.services,
      options.metrics === undefined ? Layer.empty : Layer.succeed(Metrics, options.metrics),
      options.logger === undefined ? Layer.empty : effectLoggerLayer(options.logger),
      // The conductor and the projections run in the background lane's slices (ADR 0183).
      laneLayer(background),
    )
    const context = await Effect.runPromise(Layer.buildWithScope(services, scope))
    const run = <A, E>(eff: Effect.Effect<A, E, Services>) => Effect.runPromise(Effect.provide(eff, context))
    const runFork = <A, E>(eff: Effect.Effect<A, E, Services>) => Effect.runFork(Effect.provide(eff, context))
    const app = await run(Scope.provide(scope)(makeApplication(registry, options.config)))
    return { app, run, runFork, close }
  } catch (e) {
    await close()
    throw e
  }
}
