// The composition root of `ironledger serve`: the event store (SQLite file, or memory for tests),
// the system clock, ids and secrets, the application with its drivers (see ./drivers.ts), and the
// HTTP API on top.
import { randomBytes } from "node:crypto"
import { Layer, ManagedRuntime } from "effect"
import type { CheckpointStore, EventStore, StoreUnavailable } from "../ports/index.ts"
import { makeSqliteEventStore } from "../adapters/eventstore/sqlite.ts"
import { MemoryStores } from "../adapters/eventstore/memory.ts"
import { SystemClock } from "../adapters/system/clock.ts"
import { RandomIds } from "../adapters/system/ids.ts"
import { SecretsFromKeyFile, SecretsWithKey } from "../adapters/system/secrets.ts"
import { startApiServer, type RunningApi } from "../adapters/http/server.ts"
import type { AuthConfig } from "../adapters/http/auth.ts"
import { ApplicationLayer, defaultApplicationConfig } from "../application/live.ts"
import { NodeService } from "../application/node-service.ts"
import type { ConductorConfig } from "../application/conductor/conductor.ts"
import { ensureFakeSimNodes, serveDrivers, type DriverSetup } from "./drivers.ts"

export { fakeHardwareDrivers, type DriverSetup } from "./drivers.ts"

export interface ServiceOptions {
  /** SQLite file; absent means an in-memory log that dies with the process. */
  readonly db?: string
  /** The log on another store (PostgreSQL) instead of the SQLite file `db`. */
  readonly stores?: Layer.Layer<EventStore | CheckpointStore, StoreUnavailable>
  /** Simulated disks and PXE tree; default `<db>.disks`. */
  readonly diskDir?: string
  /** Where the master key sealing secrets lives; default `<db>.key`. */
  readonly keyFile?: string
  readonly port?: number
  readonly host?: string
  readonly auth?: AuthConfig
  /** Default: serveDrivers (fake-hardware, plus "ipmi" with `stateDir`), simulated disks beside the database. */
  readonly drivers?: DriverSetup
  /** Enables the "ipmi" driver (TFTP tree, image store, simulated rack under it); ignored with `drivers`. */
  readonly stateDir?: string
  readonly conductor?: Partial<ConductorConfig>
  readonly log?: (line: string) => void
  readonly maxInFlight?: number
  /**
   * Make sure this many simulated nodes (sim-00001 ...) exist, each with one port: machines on real
   * servers when `stateDir` is set and they can run here (see drivers.ts), else fake-hardware nodes.
   */
  readonly sim?: number
  /** Notices for the operator (the simulated rack, fall-backs); default: none. */
  readonly say?: (line: string) => void
}

export interface RunningService {
  readonly api: RunningApi
  readonly url: string
  readonly close: () => Promise<void>
}

export const startService = async (options: ServiceOptions): Promise<RunningService> => {
  let resolveService!: (s: NodeService["Service"]) => void
  let rejectService!: (e: unknown) => void
  const service = new Promise<NodeService["Service"]>((resolve, reject) => { resolveService = resolve; rejectService = reject })
  service.catch(() => {})
  // Listen first: the conductor writes the API's URL into PXE configs, and port 0 is only known now.
  const api = await startApiServer({
    service,
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.auth === undefined ? {} : { auth: options.auth }),
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
  })
  const base = defaultApplicationConfig.conductor
  const callbackTimeoutMs = options.conductor?.callbackTimeoutMs ?? base.callbackTimeoutMs
  const config = {
    ...defaultApplicationConfig,
    conductor: {
      ...base,
      // Waits are timed out by the sweep: a short call-back timeout needs a sweep to match.
      sweepIntervalMs: Math.min(base.sweepIntervalMs, Math.max(250, Math.round(callbackTimeoutMs / 4))),
      ...options.conductor,
      perform: { ...base.perform, ...options.conductor?.perform, apiUrl: api.url },
    },
  }
  const stores = options.stores ?? (options.db === undefined ? MemoryStores : makeSqliteEventStore(options.db))
  const secrets = options.db === undefined && options.keyFile === undefined
    ? SecretsWithKey(randomBytes(32))
    : SecretsFromKeyFile(options.keyFile ?? `${options.db}.key`)
  const sim = options.sim ?? 0
  let setup: DriverSetup
  try {
    setup = options.drivers ?? await serveDrivers({
      sim, releasePort: config.conductor.perform.ramdiskReleasePort, say: options.say ?? (() => {}),
      ...(options.stateDir === undefined ? {} : { stateDir: options.stateDir }),
      ...(options.diskDir !== undefined ? { diskDir: options.diskDir } : options.db === undefined ? {} : { diskDir: `${options.db}.disks` }),
      ...(options.log === undefined ? {} : { log: options.log }),
    })
  } catch (e) {
    rejectService(e)
    await api.close()
    throw e
  }
  setup.connect(api.url)
  const layer = ApplicationLayer(setup.drivers, config).pipe(
    Layer.provide(Layer.mergeAll(stores, SystemClock, RandomIds, secrets)),
  )
  const runtime = ManagedRuntime.make(layer)
  // The conductor stops before the drivers it drives.
  const close = async () => {
    await api.close()
    await runtime.dispose()
    await setup.close()
  }
  try {
    const nodeService = await runtime.runPromise(NodeService)
    await setup.ready?.(nodeService)
    // Drivers given by the caller bring no nodes of their own: `sim` means fake-hardware ones.
    if (options.drivers !== undefined && sim > 0) await ensureFakeSimNodes(nodeService, sim)
    resolveService(nodeService)
  } catch (e) {
    rejectService(e)
    await close()
    throw e
  }
  return { api, url: api.url, close }
}
