// The application assembled: the fleet projection (from its checkpoint, following the log), the
// conductor driving nodes through their drivers, and NodeService over both.
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import { CheckpointStore, EventStore, Ids, Secrets } from "../ports/index.ts"
import { makeConductor, defaultConductorConfig, type ConductorConfig } from "./conductor/conductor.ts"
import type { Registry } from "./hardware/registry.ts"
import { NodeService } from "./node-service.ts"
import { makeNodeService } from "./node-service-live.ts"
import { followLog, loadFleet } from "./projections/projector.ts"
import { makeFleetCheckpoints } from "./projections/fleet-checkpoints.ts"
import type { DiscoverySettings } from "./discovery/settings.ts"

export interface ApplicationConfig {
  readonly conductor: ConductorConfig
  /** Save a projection checkpoint every this many events. */
  readonly checkpointEvery: number
  /** Refused ramdisk call-backs of a node within this window are recorded as one event (ADR 0033). Default 60 s. */
  readonly refusalWindowMs?: number
  /** Unknown machines' discovery posts (ADR 0090); default off. */
  readonly discovery?: DiscoverySettings
}

export const defaultApplicationConfig: ApplicationConfig = {
  conductor: defaultConductorConfig,
  checkpointEvery: 10_000,
}

/** Builds the running application in the current scope; everything stops when the scope closes. */
export const makeApplication = (registry: Registry, config: ApplicationConfig = defaultApplicationConfig) =>
  Effect.gen(function* () {
    const fleet = yield* loadFleet
    // Watching the fleet from here on: every change after this process's first base is known (ADR 0203).
    const checkpoints = makeFleetCheckpoints(fleet)
    const scope = yield* Effect.scope
    const conductor = yield* makeConductor(fleet, registry, config.conductor)
    // Writes from other processes (the API, other conductors) reach this conductor through the log.
    // Every conductor hears of them at about the same moment; a little jitter before reaching for
    // the lease (as long as a poll of the log) spreads the nodes over the conductors instead of
    // handing them all to the one whose poll came first.
    const services = yield* Effect.context<never>()
    const kickFromLog = (nodeId: string) => {
      // In the application's scope: a kick still waiting when the application stops is dropped.
      Effect.runForkWith(services)(Effect.forkIn(Effect.flatMap(Random.nextIntBetween(0, 100), (ms) =>
        Effect.andThen(Effect.sleep(ms), Effect.sync(() => conductor.kick(nodeId)))), scope))
    }
    yield* Effect.forkIn(followLog(fleet, checkpoints, config.checkpointEvery, kickFromLog), scope)
    yield* Effect.addFinalizer(() => Effect.ignore(Effect.ensuring(checkpoints.save(), Effect.sync(checkpoints.stop))))
    const service = yield* makeNodeService(fleet, conductor, registry, config.refusalWindowMs, config.discovery, config.conductor)
    return { service, conductor, fleet }
  })

export type Application = Effect.Success<ReturnType<typeof makeApplication>>

export const ApplicationLayer = (
  registry: Registry,
  config: ApplicationConfig = defaultApplicationConfig,
): Layer.Layer<NodeService, never, EventStore | CheckpointStore | Ids | Secrets> =>
  Layer.effect(NodeService, Effect.map(Effect.orDie(makeApplication(registry, config)), (app) => app.service))
