// ironledger serve: the API and the conductor over the log (a SQLite file, or PostgreSQL with --store), until SIGINT/SIGTERM.
import { join, resolve } from "node:path"
import { loadTokenFile, noauth } from "../../adapters/http/auth.ts"
import { UsageError } from "../args.ts"
import { noMorePositionals, type Command } from "../command.ts"
import { startService } from "../service.ts"
import { makeLogger } from "../../adapters/logging/pino.ts"
import { keepHeapHeadroom } from "../../adapters/system/heap-headroom.ts"
import { describeStore, parseStoreAddress, storeLayer } from "../store.ts"
import { serveVms } from "../vm-rack/serve-vms.ts"
import { discoveryFlags, discoveryFromArgs, discoveryUsage } from "../discovery-options.ts"

const intOption = (raw: string | undefined, name: string, fallback: number, min: number, max: number): number => {
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`--${name} takes a number from ${min} to ${max}`)
  return Number(raw)
}

export const serveCommand: Command = {
  words: ["serve"],
  usage: `serve [--db FILE | --store sqlite:FILE|postgres://...] [--key-file FILE] [--state-dir DIR] [--port N] [--host H] [--sim N] [--deploy-callback-timeout SECONDS] [--no-conductor] [--tokens FILE] [--access-log] [--notary-key FILE] [--notary-interval SECONDS] [--hardware-types A,B] [--no-automated-clean] [--vms N] [--clean-steps deploy.erase_devices_metadata,...] [--power-sync-interval SECONDS] ${discoveryUsage}`,
  description: "Run the service: the Ironic-compatible API and the conductor over the log (a SQLite file, or PostgreSQL), until SIGINT/SIGTERM.",
  examples: ["serve --db ironledger.db --port 6385", "serve --db lab.db --sim 4 --deploy-callback-timeout 600", "serve --store postgres://ironledger@db/ironledger --tokens tokens.json"],
  options: {
    db: "string", store: "string", "key-file": "string", "state-dir": "string", port: "string", host: "string", sim: "string",
    "deploy-callback-timeout": "string", "no-conductor": "flag", tokens: "string", "access-log": "flag",
    "notary-key": "string", "notary-interval": "string", "hardware-types": "string", "no-automated-clean": "flag", vms: "string",
    "clean-steps": "string",
    "power-sync-interval": "string",
    ...discoveryFlags,
  },
  run: async (args) => {
    noMorePositionals(args, 0)
    const port = intOption(args.strings["port"], "port", 6385, 0, 65535)
    const sim = intOption(args.strings["sim"], "sim", 0, 0, 100_000)
    // Real QEMU VMs: the service runs inside their network namespace (ADR 0028).
    if (args.strings["vms"] !== undefined) return serveVms(args, intOption(args.strings["vms"], "vms", 1, 1, 32), port)
    // Ironic's [conductor]deploy_callback_timeout, in seconds (default 1800).
    const callbackTimeout = intOption(args.strings["deploy-callback-timeout"], "deploy-callback-timeout", 1800, 1, 86_400)
    const host = args.strings["host"] ?? "127.0.0.1"
    if (args.strings["db"] !== undefined && args.strings["store"] !== undefined) throw new UsageError("give --db or --store, not both")
    const store = parseStoreAddress(args.strings["store"] ?? args.strings["db"] ?? "ironledger.db")
    // Absolute paths: the TFTP server and the simulated machines are handed them. On PostgreSQL
    // the host's own files (key, simulated disks) live in the state directory.
    const db = store.kind === "sqlite" ? store.path : undefined
    const stateDir = resolve(args.strings["state-dir"] ?? (db === undefined ? "ironledger.state" : `${db}.state`))
    const local = db === undefined
      ? { stores: storeLayer(store), diskDir: join(stateDir, "disks"), keyFile: resolve(args.strings["key-file"] ?? join(stateDir, "master.key")) }
      : args.strings["key-file"] === undefined ? {} : { keyFile: resolve(args.strings["key-file"]) }
    const auth = args.strings["tokens"] === undefined ? noauth : loadTokenFile(args.strings["tokens"])
    // Stop on the first signal even while starting: whatever was started is then stopped.
    let stopRequested = false
    let wake = () => {}
    const stop = () => { stopRequested = true; wake() }
    process.once("SIGINT", stop)
    process.once("SIGTERM", stop)
    // JSON lines on standard error (readable ones on a terminal); a line per request with --access-log.
    const logger = makeLogger()
    // A large fleet's full collections come less often as they take longer (ADR 0207).
    keepHeapHeadroom()
    // Machines no node knows get the discovery ramdisk and become nodes (ADR 0090).
    const discovery = discoveryFromArgs(args)
    const running = await startService({
      ...(db === undefined ? {} : { db }), ...local, stateDir, port, host, auth, sim, discovery,
      // --no-conductor: the API only, beside `ironledger conductor` processes that drive the nodes.
      conductor: {
        callbackTimeoutMs: callbackTimeout * 1000, drivesNodes: !args.flags.has("no-conductor"),
        // Ironic's [conductor]automated_clean: nodes whose own automated_clean is unset follow it.
        automatedClean: !args.flags.has("no-automated-clean"),
        // The steps automated cleaning runs, those each node's interfaces offer (default deploy.erase_devices_metadata).
        ...(args.strings["clean-steps"] === undefined ? {} : {
          automatedCleanSteps: args.strings["clean-steps"].split(",").map((t) => t.trim()).filter((t) => t !== ""),
        }),
        // Ironic's [conductor]sync_power_state_interval (default 120 s here; 0: never).
        ...(args.strings["power-sync-interval"] === undefined ? {} : {
          powerSyncIntervalMs: intOption(args.strings["power-sync-interval"], "power-sync-interval", 120, 0, 86_400) * 1000,
        }),
      },
      // Ironic's enabled_hardware_types: the others stay registered but no node may use them.
      ...(args.strings["hardware-types"] === undefined ? {} : {
        enabled: { hardwareTypes: args.strings["hardware-types"].split(",").map((t) => t.trim()).filter((t) => t !== "") },
      }),
      say: (line) => process.stdout.write(`${line}\n`),
      // Checkpoints of the log (ADR 0030), signed when the operator hands over a key.
      notary: {
        intervalMs: intOption(args.strings["notary-interval"], "notary-interval", 10, 1, 86_400) * 1000,
        ...(args.strings["notary-key"] === undefined ? {} : { signingKeyFile: resolve(args.strings["notary-key"]) }),
      },
      logger, accessLog: args.flags.has("access-log"),
    })
    logger.info(`ironledger API listening on ${running.url} (log: ${describeStore(store)}, state: ${stateDir}, auth: ${auth.mode}${sim > 0 ? `, ${sim} simulated nodes` : ""})`)
    if (!stopRequested) await new Promise<void>((resolve) => { wake = resolve })
    logger.info("stopping")
    await running.close()
  },
}
