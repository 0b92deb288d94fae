// The composition root of `ironledger serve`: the event store (SQLite file, or memory for tests),
// the system clock, ids and secrets, the application with its drivers, and the HTTP API on top.
import { randomBytes } from "node:crypto"
import { Effect, Layer, ManagedRuntime } from "effect"
import { makeSqliteEventStore } from "../adapters/eventstore/sqlite.ts"
import { MemoryStores } from "../adapters/eventstore/memory.ts"
import { SystemClock } from "../adapters/system/clock.ts"
import { RandomIds } from "../adapters/system/ids.ts"
import { SecretsFromKeyFile, SecretsWithKey } from "../adapters/system/secrets.ts"
import { startApiServer, type RunningApi } from "../adapters/http/server.ts"
import type { AuthConfig } from "../adapters/http/auth.ts"
import { ApplicationLayer, defaultApplicationConfig } from "../application/live.ts"
import type { Drivers } from "../application/conductor/hardware.ts"
import { NodeService } from "../application/node-service.ts"
import type { Mac, NodeName } from "../domain/index.ts"
import type { ConductorConfig } from "../application/conductor/conductor.ts"
import { makeFakeHardware } from "../adapters/drivers/fake-hardware.ts"
import { passDeployInfoUrl, postPassDeployInfo } from "../adapters/sim/machine/callback.ts"

/** The drivers `serve` runs: fake-hardware over simulated ports, its ramdisk calling the API back. */
export interface DriverSetup {
  readonly drivers: Drivers
  /** Runs once the API listens: the simulated ramdisks post to it. */
  readonly connect: (apiUrl: string) => void
  readonly close: () => void
}

/**
 * fake-hardware: when a node boots its deploy ramdisk, the simulated ramdisk posts pass_deploy_info
 * to this service's own API, over HTTP, exactly as a real ramdisk would.
 */
export const fakeHardwareDrivers = (options: { readonly diskDir?: string; readonly callbackDelayMs?: number; readonly log?: (line: string) => void } = {}): DriverSetup => {
  let apiUrl: string | undefined
  let closed = false
  const fake = makeFakeHardware({
    callbackDelayMs: options.callbackDelayMs ?? 200,
    ...(options.diskDir === undefined ? {} : { diskDir: options.diskDir }),
    callBack: (nodeId, cb) => {
      if (apiUrl === undefined || closed) return
      void postPassDeployInfo(passDeployInfoUrl(apiUrl, nodeId), {
        address: cb.address, port: String(cb.port), iqn: cb.iqn, lun: String(cb.lun), key: cb.key, error: cb.error,
        chap_user: cb.chapUser ?? "", chap_secret: cb.chapSecret ?? "",
      }, 30_000).then((r) => {
        if (r.kind === "unreachable" || r.status >= 300) options.log?.(`simulated ramdisk of ${nodeId}: call-back ${r.kind === "unreachable" ? r.reason : `answered ${r.status}`}`)
      })
    },
  })
  return {
    drivers: { "fake-hardware": fake.hardware },
    connect: (url) => { apiUrl = url },
    close: () => { closed = true },
  }
}

export interface ServiceOptions {
  /** SQLite file; absent means an in-memory log that dies with the process. */
  readonly db?: string
  /** Where the master key sealing secrets lives; default `<db>.key`. */
  readonly keyFile?: string
  readonly port?: number
  readonly host?: string
  readonly auth?: AuthConfig
  /** Default: fake-hardware only (see fakeHardwareDrivers), simulated disks beside the database. */
  readonly drivers?: DriverSetup
  readonly conductor?: Partial<ConductorConfig>
  readonly log?: (line: string) => void
  readonly maxInFlight?: number
  /** Make sure this many simulated fake-hardware nodes (sim-00001 ...) exist, each with one port. */
  readonly sim?: number
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
  const config = {
    ...defaultApplicationConfig,
    conductor: { ...base, ...options.conductor, perform: { ...base.perform, ...options.conductor?.perform, apiUrl: api.url } },
  }
  const stores = options.db === undefined ? MemoryStores : makeSqliteEventStore(options.db)
  const secrets = options.db === undefined && options.keyFile === undefined
    ? SecretsWithKey(randomBytes(32))
    : SecretsFromKeyFile(options.keyFile ?? `${options.db}.key`)
  const setup = options.drivers ?? fakeHardwareDrivers({
    ...(options.db === undefined ? {} : { diskDir: `${options.db}.disks` }),
    ...(options.log === undefined ? {} : { log: options.log }),
  })
  setup.connect(api.url)
  const layer = ApplicationLayer(setup.drivers, config).pipe(
    Layer.provide(Layer.mergeAll(stores, SystemClock, RandomIds, secrets)),
  )
  const runtime = ManagedRuntime.make(layer)
  try {
    const nodeService = await runtime.runPromise(NodeService)
    if (options.sim !== undefined && options.sim > 0) await ensureSimulatedNodes(nodeService, options.sim)
    resolveService(nodeService)
  } catch (e) {
    rejectService(e)
    setup.close()
    await api.close()
    await runtime.dispose()
    throw e
  }
  return {
    api,
    url: api.url,
    close: async () => {
      setup.close()
      await api.close()
      await runtime.dispose()
    },
  }
}

const simName = (i: number) => `sim-${String(i).padStart(5, "0")}`
const simMac = (i: number) => `52:54:00:${[16, 8, 0].map((s) => ((i >> s) & 0xff).toString(16).padStart(2, "0")).join(":")}`

/** Enrolls the simulated nodes that do not exist yet (a restart over the same log adds none). */
const ensureSimulatedNodes = async (service: NodeService["Service"], count: number) => {
  for (let i = 1; i <= count; i++) {
    const exists = await Effect.runPromise(Effect.match(service.get(simName(i)), { onSuccess: () => true, onFailure: () => false }))
    if (exists) continue
    const node = await Effect.runPromise(service.enroll({
      name: simName(i) as NodeName, driver: "fake-hardware", driverInfo: {},
      properties: { cpus: 4, memory_mb: 8192, local_gb: 40, cpu_arch: "x86_64" }, instanceInfo: {}, extra: {},
    }, "serve:sim"))
    await Effect.runPromise(service.addPort({ nodeRef: node.uuid, mac: simMac(i) as Mac }, "serve:sim"))
  }
}
