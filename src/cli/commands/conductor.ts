// ironledger conductor: the fleet projection and the conductor over a shared log (SQLite, or PostgreSQL for several hosts), without an
// HTTP API, until SIGINT/SIGTERM. Several run beside one `ironledger serve`; leases in the nodes'
// streams keep any node driven by one of them at a time (ADR 0010). sim's simulated ramdisks post
// pass_deploy_info to the API process (--api-url), as real ones do.
import { join, resolve } from "node:path"
import * as Layer from "effect/Layer"
import { RandomIds } from "../../adapters/system/ids.ts"
import { SecretsFromKeyFile } from "../../adapters/system/secrets.ts"
import { defaultApplicationConfig } from "../../application/live.ts"
import type { CheckpointStore, EventStore } from "../../ports/index.ts"
import { UsageError, type Parsed } from "../args.ts"
import { noMorePositionals, type Command, type Env } from "../command.ts"
import { compose } from "../compose.ts"
import { makeLogger } from "../../adapters/logging/pino.ts"
import { keepHeapHeadroom } from "../../adapters/system/heap-headroom.ts"
import { simulatedHardware } from "../hardware.ts"
import { parseHostDhcp, startHostDhcp } from "../conductor-dhcp.ts"
import { describeStore, parseStoreAddress, storeLayer, type StoreAddress } from "../store.ts"

/** The event store a conductor runs on, from its address (a test may wrap it, e.g. to crash on cue). */
export type ConductorStores = (address: StoreAddress) => Layer.Layer<EventStore | CheckpointStore, unknown>

const intOption = (raw: string | undefined, name: string, fallback: number, min: number, max: number): number => {
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`--${name} takes a number from ${min} to ${max}`)
  return Number(raw)
}

const required = (raw: string | undefined, name: string): string => {
  if (raw === undefined || raw === "") throw new UsageError(`--${name} is required`)
  return raw
}

export const conductorCommand: Command = {
  words: ["conductor"],
  usage: "conductor --db FILE | --store sqlite:FILE|postgres://... [--state-dir DIR] [--key-file FILE] --name NAME [--api-url URL] [--lease-ttl MS] [--sweep MS] [--deploy-callback-timeout SECONDS] [--max-deploys N] [--sim-rack-dir DIR] [--dhcp-interface IF --dhcp-range START,END[,NETMASK] [--dhcp-router-advertisements] [--discovery]]",
  description: "Run a conductor without an API beside `serve --no-conductor`: it drives nodes of the shared log, one conductor per node at a time (leases).",
  examples: ["conductor --db ironledger.db --name c2 --api-url http://127.0.0.1:6385", "conductor --store postgres://ironledger@db/ironledger --state-dir /var/lib/ironledger --name rack-b"],
  options: {
    db: "string", store: "string", "state-dir": "string", "key-file": "string", name: "string", "api-url": "string", "lease-ttl": "string", sweep: "string",
    "deploy-callback-timeout": "string", "max-deploys": "string", "sim-rack-dir": "string",
    "dhcp-interface": "string", "dhcp-range": "string", "dhcp-router-advertisements": "flag", discovery: "flag",
  },
  run: (args, env) => runConductor(args, env, storeLayer),
}

/** The conductor process: parses its options, composes the application and drives nodes until a signal. */
export const runConductor = async (args: Parsed, _env: Env, storesFor: ConductorStores) => {
  noMorePositionals(args, 0)
  if (args.strings["db"] !== undefined && args.strings["store"] !== undefined) throw new UsageError("give --db or --store, not both")
  const address = parseStoreAddress(required(args.strings["store"] ?? args.strings["db"], "store"))
  // The host's own files: beside a SQLite file, where `serve` keeps them; on PostgreSQL, in the
  // state directory (the key must be the same file on every host: it unseals the log's secrets).
  const stateDir = resolve(args.strings["state-dir"] ?? "ironledger.state")
  const local = address.kind === "sqlite"
    ? { diskDir: `${address.path}.disks`, keyFile: `${address.path}.key` }
    : { diskDir: join(stateDir, "disks"), keyFile: join(stateDir, "master.key") }
  const keyFile = args.strings["key-file"] === undefined ? local.keyFile : resolve(args.strings["key-file"])
  const name = required(args.strings["name"], "name")
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(name)) throw new UsageError("--name takes 1-64 letters, digits or . _ : -")
  const apiUrl = args.strings["api-url"] ?? "http://127.0.0.1:6385"
  if (!URL.canParse(apiUrl) || !/^https?:$/.test(new URL(apiUrl).protocol)) throw new UsageError(`--api-url ${apiUrl} is not an http(s) URL`)
  const base = defaultApplicationConfig.conductor
  const leaseTtlMs = intOption(args.strings["lease-ttl"], "lease-ttl", base.leaseTtlMs, 100, 3_600_000)
  const callbackTimeoutMs = 1000 * intOption(args.strings["deploy-callback-timeout"], "deploy-callback-timeout", base.callbackTimeoutMs / 1000, 1, 86_400)
  // Waits are timed out by the sweep: a short call-back timeout needs a sweep to match.
  const sweepIntervalMs = intOption(args.strings["sweep"], "sweep", Math.min(base.sweepIntervalMs, Math.max(250, Math.round(callbackTimeoutMs / 4))), 10, 3_600_000)
  const maxConcurrentDeploys = intOption(args.strings["max-deploys"], "max-deploys", base.maxConcurrentDeploys, 1, 100_000)

  // Simulated disks and PXE tree where `serve` keeps them: every process sees the same machines.
  // JSON lines on standard error, as `serve` writes them (ADR 0036).
  const logger = makeLogger()
  // A large fleet's full collections come less often as they take longer (ADR 0207).
  keepHeapHeadroom()
  // With --sim-rack-dir (conductors on several hosts) the sim machines live there, not on this host.
  const rackDir = args.strings["sim-rack-dir"] === undefined ? {} : { rackDir: resolve(args.strings["sim-rack-dir"]), actor: name }
  // With --dhcp-interface, this host answers DHCP for the MACs its TFTP root links (ADR 0072).
  const dhcpOptions = parseHostDhcp(args.strings["dhcp-interface"], args.strings["dhcp-range"], args.flags.has("dhcp-router-advertisements"))
  // With --discovery it also boots machines no node knows into discovery, as `serve --discovery` does (ADR 0140).
  if (args.flags.has("discovery") && dhcpOptions === null) throw new UsageError("--discovery needs --dhcp-interface: without it this host answers no machine")
  const discovery = args.flags.has("discovery") ? { discovery: { apiUrl, imagesStateDir: stateDir } } : {}
  const dhcp = dhcpOptions === null ? null
    : await startHostDhcp(dhcpOptions, join(local.diskDir, "tftp"), join(stateDir, "dhcp"), (line) => logger.info(line), discovery)
  const hardware = simulatedHardware({
    diskDir: local.diskDir, ...rackDir, log: (line) => logger.info(line),
    ...(dhcp === null ? {} : { onLinksChanged: dhcp.linksChanged }),
  })
  hardware.connect(apiUrl)
  const composed = await compose({
    services: Layer.mergeAll(storesFor(address), RandomIds, SecretsFromKeyFile(keyFile)),
    hardware, logger,
    config: {
      ...defaultApplicationConfig,
      conductor: {
        ...base, name, leaseTtlMs, callbackTimeoutMs, sweepIntervalMs, maxConcurrentDeploys, drivesNodes: true,
        // A host of its own (its own TFTP root): nodes other conductors take leave it.
        hostBootFiles: args.strings["sim-rack-dir"] !== undefined || dhcp !== null,
        perform: { ...base.perform, apiUrl },
      },
    },
  }).catch(async (e: unknown) => { await dhcp?.close(); throw e })
  const unfollow = dhcp?.followFleet(composed.app.fleet) ?? (() => {})
  logger.info(`ironledger conductor ${name} driving nodes of ${describeStore(address)} (API ${apiUrl}, lease ${leaseTtlMs} ms, sweep ${sweepIntervalMs} ms)`)
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve())
    process.once("SIGTERM", () => resolve())
  })
  logger.info("stopping")
  unfollow()
  await composed.close()
  await dhcp?.close()
}
