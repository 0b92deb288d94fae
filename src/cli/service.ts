// `ironledger serve`: the composition root (./compose.ts) with the SQLite log (or memory for
// tests), the system clock, ids and secrets, the hardware of ./hardware.ts, and the HTTP API on top.
import { randomBytes } from "node:crypto"
import * as Layer from "effect/Layer"
import type { CheckpointStore, EventStore, StoreUnavailable } from "../ports/index.ts"
import { makeSqliteEventStore } from "../adapters/eventstore/sqlite.ts"
import { MemoryStores } from "../adapters/eventstore/memory.ts"
import { RandomIds } from "../adapters/system/ids.ts"
import { SecretsFromKeyFile, SecretsWithKey } from "../adapters/system/secrets.ts"
import { startApiServer, type RunningApi } from "../adapters/http/server.ts"
import type { DiscoverySettings } from "../application/discovery/settings.ts"
import type { PinoLogger } from "../adapters/logging/pino.ts"
import { makePrometheusMetrics } from "../adapters/metrics/prometheus.ts"
import type { AuthConfig } from "../adapters/http/auth.ts"
import { defaultApplicationConfig } from "../application/live.ts"
import type { NodeService } from "../application/node-service.ts"
import type { ConductorConfig } from "../application/conductor/conductor.ts"
import type { EnabledHardware } from "../application/hardware/registry.ts"
import { compose } from "./compose.ts"
import { ensureSimNodes, serveHardware, type HardwareSetup } from "./hardware.ts"
import { startNotary, type NotaryOptions } from "./notary.ts"
import { readToolsBundle } from "../adapters/ramdisk/tools/register.ts"
import { background } from "../adapters/system/background.ts"
import { join } from "node:path"

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
  /** Default: serveHardware (fake-hardware and sim, plus "ipmi" with `stateDir`), simulated disks beside the database. */
  readonly hardware?: HardwareSetup
  /** Which registered hardware types and interfaces nodes may use; default: all. */
  readonly enabled?: EnabledHardware
  /** Enables the "ipmi" hardware type (TFTP tree, image store, simulated rack under it; default `<db>.state`); ignored with `hardware`. */
  readonly stateDir?: string
  readonly conductor?: Partial<ConductorConfig>
  readonly log?: (line: string) => void
  /** Structured lines (JSON through pino in `serve`): requests, the conductor's warnings, hardware notes. */
  readonly logger?: PinoLogger
  /** A line per request in `logger` (else only failures); default true. */
  readonly accessLog?: boolean
  readonly maxInFlight?: number
  /**
   * Make sure this many simulated nodes (sim-00001 ...) exist, each with one port: machines on real
   * servers when `stateDir` is set and they can run here (see hardware.ts), else sim nodes.
   */
  readonly sim?: number
  /** Notices for the operator (the simulated rack, fall-backs); default: none. */
  readonly say?: (line: string) => void
  /** The notary's checkpoints (ADR 0030); on by default, `false` turns it off. */
  readonly notary?: NotaryOptions | false
  /** Unknown machines' discovery (ADR 0090); default off. */
  readonly discovery?: DiscoverySettings
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
  const metrics = makePrometheusMetrics()
  const api = await startApiServer({
    service, metrics, lane: background,
    ...(options.logger === undefined ? {} : { logger: options.accessLog === false ? options.logger.child({}, { level: "warn" }) : options.logger }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.auth === undefined ? {} : { auth: options.auth }),
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
    // The tools bundle `ramdisk build --tools` registered beside the store's images (ADR 0100).
    ramdiskTools: () => {
      const dir = options.stateDir ?? (options.db === undefined ? undefined : `${options.db}.state`)
      return dir === undefined ? Promise.resolve(null) : readToolsBundle(join(dir, "images"))
    },
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
    ...(options.discovery === undefined ? {} : { discovery: options.discovery }),
  }
  const stores = options.stores ?? (options.db === undefined ? MemoryStores : makeSqliteEventStore(options.db))
  const secrets = options.db === undefined && options.keyFile === undefined
    ? SecretsWithKey(randomBytes(32))
    : SecretsFromKeyFile(options.keyFile ?? `${options.db}.key`)
  const sim = options.sim ?? 0
  // The ipmi hardware type keeps its TFTP tree and images beside the log, as `serve` does.
  const stateDir = options.stateDir ?? (options.db === undefined ? undefined : `${options.db}.state`)
  let hardware: HardwareSetup
  try {
    hardware = options.hardware ?? await serveHardware({
      sim, releasePort: config.conductor.perform.ramdiskReleasePort, say: options.say ?? (() => {}),
      ...(stateDir === undefined ? {} : { stateDir }),
      ...(options.diskDir !== undefined ? { diskDir: options.diskDir } : options.db === undefined ? {} : { diskDir: `${options.db}.disks` }),
      ...(options.log !== undefined ? { log: options.log } : options.logger === undefined ? {} : { log: (line: string) => options.logger!.info(line) }),
    })
  } catch (e) {
    rejectService(e)
    await api.close()
    throw e
  }
  hardware.connect(api.url)
  try {
    const composed = await compose({
      services: Layer.mergeAll(stores, RandomIds, secrets), hardware, config, metrics: metrics.port,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.enabled === undefined ? {} : { enabled: options.enabled }),
    })
    // The API stops first, then the notary (one last checkpoint), then the conductor before the hardware it drives.
    metrics.attachFleet(composed.app.fleet)
    let stopNotary = async () => {}
    const close = async () => {
      await api.close()
      await stopNotary()
      await composed.close()
    }
    try {
      await hardware.ready?.(composed.app.service)
      // Machines no node knows boot the discovery ramdisk from this host's TFTP tree (ADR 0090).
      // Without deploy images the endpoint still takes posts (from a ramdisk booted some other way): say so, go on.
      if (options.discovery?.enabled === true) {
        await hardware.discoveryBoot?.(api.url).catch((e: Error) =>
          (options.say ?? options.log ?? (() => {}))(`warning: machines no node knows get no discovery boot: ${e.message}`))
      }
      // Hardware given by the caller brings no nodes of its own: `sim` means sim ones.
      if (options.hardware !== undefined && sim > 0) await ensureSimNodes(composed.app.service, sim)
      if (options.notary !== false) stopNotary = startNotary(composed, options.notary ?? {})
      resolveService(composed.app.service)
    } catch (e) {
      await close()
      throw e
    }
    return { api, url: api.url, close }
  } catch (e) {
    rejectService(e)
    await api.close()
    throw e
  }
}
