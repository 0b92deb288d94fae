// ironledger certify: the contract kit's power and management checks against a vendor's own BMC,
// through the interfaces the service would use for that hardware type. Prints a pass/fail table;
// exits non-zero when a check fails. Power checks run only with --allow-power.
import { randomBytes, randomUUID } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import { certify } from "../../application/hardware/certification.ts"
import { makeRegistry } from "../../application/hardware/registry.ts"
import { initialState, type Uuid } from "../../domain/index.ts"
import { SecretsWithKey } from "../../adapters/system/secrets.ts"
import { UsageError } from "../args.ts"
import { noMorePositionals, type Command } from "../command.ts"
import { bmcKey, type BmcSetting } from "../bmc-settings.ts"
import { serveHardware } from "../hardware.ts"
import { table } from "../output.ts"

export class CertificationFailed extends Error {}

export const certifyCommand: Command = {
  words: ["certify"],
  usage: "certify --driver NAME --bmc HOST [--port N] [--username U] [--password-file F] [--driver-info K=V]... [--allow-power]",
  description: "Run the contract checks of a hardware type's power and management interfaces against a real BMC; exits non-zero when a check fails.",
  examples: ["certify --driver ipmi --bmc 10.0.0.7 --username admin --password-file bmc.pass", "certify --driver ipmi --bmc 10.0.0.7 --password-file bmc.pass --allow-power --json"],
  options: { driver: "string", bmc: "string", port: "string", username: "string", "password-file": "string", "driver-info": "list", "allow-power": "flag" },
  run: async (args, env) => {
    noMorePositionals(args, 0)
    const driver = args.strings["driver"]
    if (driver === undefined) throw new UsageError("--driver is required")
    const stateDir = mkdtempSync(join(tmpdir(), "ironledger-certify-"))
    const hardware = await serveHardware({ stateDir, sim: 0, releasePort: 10000, say: () => {} })
    try {
      const registry = makeRegistry(hardware.vendors)
      if (registry.hardwareType(driver) === undefined) {
        throw new UsageError(`no hardware type "${driver}"; registered: ${registry.hardwareTypes.map((t) => t.name).join(", ")}`)
      }
      const probe = { ...initialState(randomUUID() as Uuid), driver }
      const hw = registry.resolve(probe)
      if (E.isLeft(hw)) throw new UsageError(hw.left)
      // The settings the flags fill are the ones the type's power interface reads.
      const names = hw.right.power.properties.map((p) => p.name)
      const info: Record<string, string> = {}
      const fill = (flag: string, setting: BmcSetting, value: string | undefined) => {
        if (value === undefined) return
        const key = bmcKey(names, setting)
        if (key === undefined) throw new UsageError(`--${flag}: the ${driver} power interface has no such setting (it reads ${names.join(", ") || "none"})`)
        info[key] = value
      }
      fill("bmc", "address", args.strings["bmc"])
      fill("port", "port", args.strings["port"])
      fill("username", "username", args.strings["username"])
      const passwordFile = args.strings["password-file"]
      fill("password-file", "password", passwordFile === undefined ? undefined : readFileSync(passwordFile, "utf8").replace(/\r?\n$/, ""))
      for (const pair of args.lists["driver-info"] ?? []) {
        const eq = pair.indexOf("=")
        if (eq <= 0) throw new UsageError(`--driver-info takes KEY=VALUE, got ${pair}`)
        info[pair.slice(0, eq)] = pair.slice(eq + 1)
      }
      const node = { ...probe, driverInfo: info }
      env.note(`certifying ${driver}: power ${hw.right.power.name}, management ${hw.right.management.name}${args.flags.has("allow-power") ? "" : " (power checks skipped: --allow-power)"}`)
      const results = await Effect.runPromise(Effect.provide(
        certify({ power: hw.right.power, management: hw.right.management, node }, { allowPower: args.flags.has("allow-power") }),
        SecretsWithKey(randomBytes(32)),
      ))
      table(env.out, [["Check", "check"], ["Result", "outcome"], ["ms", "ms"], ["Detail", "detail"]], results)
      const failed = results.filter((r) => r.outcome === "fail").length
      if (failed > 0) throw new CertificationFailed(`${failed} of ${results.length} checks failed`)
    } finally {
      await hardware.close()
      rmSync(stateDir, { recursive: true, force: true })
    }
  },
}
