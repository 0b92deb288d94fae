// `serve`'s discovery options (ADR 0090): --discovery turns it on; --auto-enroll with
// --discovery-driver NAME (default ipmi) and --discovery-driver-info FILE (a JSON object of
// driver_info, e.g. the site's BMC credentials: a file, so no secret sits on the command line).
import { readFileSync } from "node:fs"
import { UsageError } from "./args.ts"
import { discoveryOff, type DiscoverySettings } from "../application/discovery/settings.ts"

export const discoveryUsage = "[--discovery [--auto-enroll] [--discovery-driver NAME] [--discovery-driver-info FILE]]"
export const discoveryFlags = { discovery: "flag", "auto-enroll": "flag", "discovery-driver": "string", "discovery-driver-info": "string" } as const

/** driver_info from a JSON file: an object of strings, numbers and booleans. */
export const readDriverInfoFile = (path: string): DiscoverySettings["driverInfo"] => {
  let parsed: unknown
  try { parsed = JSON.parse(readFileSync(path, "utf8")) } catch (e) { throw new UsageError(`--discovery-driver-info ${path}: ${(e as Error).message}`) }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`--discovery-driver-info ${path}: not a JSON object`)
  for (const [k, v] of Object.entries(parsed)) {
    if (!["string", "number", "boolean"].includes(typeof v)) throw new UsageError(`--discovery-driver-info ${path}: ${k} is not a string, number or boolean`)
  }
  return parsed as DiscoverySettings["driverInfo"]
}

export const discoveryFromArgs = (args: { readonly flags: ReadonlySet<string>; readonly strings: Readonly<Record<string, string | undefined>> }): DiscoverySettings => {
  const on = args.flags.has("discovery")
  const others = ["auto-enroll", "discovery-driver", "discovery-driver-info"].filter((o) => args.flags.has(o) || args.strings[o] !== undefined)
  if (!on) {
    if (others.length > 0) throw new UsageError(`--${others[0]} needs --discovery`)
    return discoveryOff
  }
  const driver = args.strings["discovery-driver"] ?? "ipmi"
  const info = args.strings["discovery-driver-info"]
  return { enabled: true, autoEnroll: args.flags.has("auto-enroll"), driver, driverInfo: info === undefined ? {} : readDriverInfoFile(info) }
}
