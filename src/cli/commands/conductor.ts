// ironledger conductor: the fleet projection and the conductor over a shared SQLite log, without an
// HTTP API, until SIGINT/SIGTERM. Several run beside one `ironledger serve`; leases in the nodes'
// streams keep any node driven by one of them at a time (ADR 0010). sim's simulated ramdisks post
// pass_deploy_info to the API process (--api-url), as real ones do.
import { Layer } from "effect"
import { makeSqliteEventStore } from "../../adapters/eventstore/sqlite.ts"
import { RandomIds } from "../../adapters/system/ids.ts"
import { SecretsFromKeyFile } from "../../adapters/system/secrets.ts"
import { defaultApplicationConfig } from "../../application/live.ts"
import type { CheckpointStore, EventStore } from "../../ports/index.ts"
import { UsageError, type Parsed } from "../args.ts"
import { noMorePositionals, type Command, type Env } from "../command.ts"
import { compose } from "../compose.ts"
import { simulatedHardware } from "../hardware.ts"

/** The event store a conductor runs on: the SQLite file (a test may wrap it, e.g. to crash on cue). */
export type ConductorStores = (db: string) => Layer.Layer<EventStore | CheckpointStore, unknown>

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
  usage: "conductor --db FILE --name NAME [--api-url URL] [--lease-ttl MS] [--sweep MS] [--deploy-callback-timeout SECONDS] [--max-deploys N]",
  options: {
    db: "string", name: "string", "api-url": "string", "lease-ttl": "string", sweep: "string",
    "deploy-callback-timeout": "string", "max-deploys": "string",
  },
  run: (args, env) => runConductor(args, env, makeSqliteEventStore),
}

/** The conductor process: parses its options, composes the application and drives nodes until a signal. */
export const runConductor = async (args: Parsed, env: Env, storesFor: ConductorStores) => {
  noMorePositionals(args, 0)
  const db = required(args.strings["db"], "db")
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

  // Simulated disks and PXE tree beside the database, where `serve` keeps them: every process sees the same machines.
  const hardware = simulatedHardware({ diskDir: `${db}.disks`, log: (line) => env.note(line) })
  hardware.connect(apiUrl)
  const composed = await compose({
    services: Layer.mergeAll(storesFor(db), RandomIds, SecretsFromKeyFile(`${db}.key`)),
    hardware,
    config: {
      ...defaultApplicationConfig,
      conductor: {
        ...base, name, leaseTtlMs, callbackTimeoutMs, sweepIntervalMs, maxConcurrentDeploys, drivesNodes: true,
        perform: { ...base.perform, apiUrl },
      },
    },
  })
  const stop = () => composed.close()
  env.note(`ironledger conductor ${name} driving nodes of ${db} (API ${apiUrl}, lease ${leaseTtlMs} ms, sweep ${sweepIntervalMs} ms)`)
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve())
    process.once("SIGTERM", () => resolve())
  })
  env.note("stopping")
  await stop()
}
