// ironledger conductor: the fleet projection and the conductor over a shared log (SQLite, or PostgreSQL for several hosts), without an
// HTTP API, until SIGINT/SIGTERM. Several run beside one `ironledger serve`; leases in the nodes'
// streams keep any node driven by one of them at a time (ADR 0010). fake-hardware's simulated
// ramdisks post pass_deploy_info to the API process (--api-url), as real ones do.
import { join, resolve } from "node:path"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { SystemClock } from "../../adapters/system/clock.ts"
import { RandomIds } from "../../adapters/system/ids.ts"
import { SecretsFromKeyFile } from "../../adapters/system/secrets.ts"
import { defaultApplicationConfig, makeApplication } from "../../application/live.ts"
import { EventStore } from "../../ports/index.ts"
import { UsageError } from "../args.ts"
import { noMorePositionals, type Command } from "../command.ts"
import { fakeHardwareDrivers } from "../drivers.ts"
import { describeStore, parseStoreAddress, storeLayer, type StoreAddress } from "../store.ts"

/** Test-only knob: the process SIGKILLs itself right after it appended an event of this type. */
export const DIE_AFTER_EVENT = "IRONLEDGER_TEST_DIE_AFTER_EVENT"

const intOption = (raw: string | undefined, name: string, fallback: number, min: number, max: number): number => {
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`--${name} takes a number from ${min} to ${max}`)
  return Number(raw)
}

const required = (raw: string | undefined, name: string): string => {
  if (raw === undefined || raw === "") throw new UsageError(`--${name} is required`)
  return raw
}

/** The store, with the crash knob around `append` when the environment sets it. */
const storesFor = (address: StoreAddress) => {
  const stores = storeLayer(address)
  const dieAfter = process.env[DIE_AFTER_EVENT]
  if (dieAfter === undefined || dieAfter === "") return stores
  return Layer.effectContext(Effect.gen(function* () {
    const context = yield* Layer.build(stores)
    const inner = Context.get(context, EventStore)
    return Context.add(context, EventStore, {
      ...inner,
      append: (streamId, events, expected) =>
        Effect.tap(inner.append(streamId, events, expected), () => Effect.sync(() => {
          if (events.some((e) => e.type === dieAfter)) process.kill(process.pid, "SIGKILL")
        })),
    })
  }))
}

export const conductorCommand: Command = {
  words: ["conductor"],
  usage: "conductor --db FILE | --store sqlite:FILE|postgres://... [--state-dir DIR] [--key-file FILE] --name NAME [--api-url URL] [--lease-ttl MS] [--sweep MS] [--deploy-callback-timeout SECONDS] [--max-deploys N]",
  options: {
    db: "string", store: "string", "state-dir": "string", "key-file": "string", name: "string", "api-url": "string", "lease-ttl": "string", sweep: "string",
    "deploy-callback-timeout": "string", "max-deploys": "string",
  },
  run: async (args, env) => {
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

    // Simulated disks and PXE tree beside the database, where `serve` keeps them: every process sees the same machines.
    const setup = fakeHardwareDrivers({ diskDir: local.diskDir, log: (line) => env.note(line) })
    setup.connect(apiUrl)
    const scope = await Effect.runPromise(Scope.make())
    const stop = async () => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      await setup.close()
    }
    try {
      const services = Layer.mergeAll(storesFor(address), SystemClock, RandomIds, SecretsFromKeyFile(keyFile))
      const context = await Effect.runPromise(Layer.buildWithScope(services, scope))
      await Effect.runPromise(Effect.provide(Scope.provide(scope)(makeApplication(setup.drivers, {
        ...defaultApplicationConfig,
        conductor: {
          ...base, name, leaseTtlMs, callbackTimeoutMs, sweepIntervalMs, maxConcurrentDeploys, drivesNodes: true,
          perform: { ...base.perform, apiUrl },
        },
      })), context))
    } catch (e) {
      await stop()
      throw e
    }
    env.note(`ironledger conductor ${name} driving nodes of ${describeStore(address)} (API ${apiUrl}, lease ${leaseTtlMs} ms, sweep ${sweepIntervalMs} ms)`)
    await new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve())
      process.once("SIGTERM", () => resolve())
    })
    env.note("stopping")
    await stop()
  },
}
