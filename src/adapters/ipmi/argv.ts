// The exact ipmitool invocation for a command. The password goes through the environment (-E reads
// IPMI_PASSWORD): argv is world-readable in /proc/<pid>/cmdline and `ps`, a process's environment
// only to its owner and root.
import * as Redacted from "effect/Redacted"
import type { BmcAccess, BootDevice } from "../../ports/power-driver.ts"
import type { IpmitoolConfig } from "./config.ts"

export type ChassisCommand =
  | { readonly kind: "power"; readonly action: "status" | "on" | "off" | "soft" | "diag" }
  | { readonly kind: "bootdev"; readonly device: BootDevice; readonly persistent: boolean }

const BOOTDEV: Record<BootDevice, string> = { pxe: "pxe", disk: "disk", cdrom: "cdrom" }

/** What the command reads as in logs and errors, e.g. "chassis power on". */
export const describeCommand = (command: ChassisCommand): string => chassisArgs(command).join(" ")

const chassisArgs = (command: ChassisCommand): ReadonlyArray<string> =>
  command.kind === "power"
    ? ["chassis", "power", command.action]
    : ["chassis", "bootdev", BOOTDEV[command.device], ...(command.persistent ? ["options=persistent"] : [])]

export const ipmitoolArgv = (config: IpmitoolConfig, bmc: BmcAccess, command: ChassisCommand): ReadonlyArray<string> => [
  "-I", "lanplus",
  "-C", String(config.cipherSuite),
  "-H", bmc.address,
  "-p", String(bmc.port),
  // An empty user name is IPMI's anonymous (null) user: ipmitool's default when -U is left out.
  ...(bmc.username === "" ? [] : ["-U", bmc.username]),
  "-L", "ADMINISTRATOR",
  "-E",
  "-N", String(config.sessionTimeoutSec),
  "-R", String(config.sessionRetries),
  // One -v level: ipmitool then says *why* a session failed (RAKP errors vs. no answer); it prints
  // no key material at this level.
  "-v",
  ...chassisArgs(command),
]

/** A minimal environment: nothing of ours leaks into ipmitool beyond what it needs. */
export const ipmitoolEnv = (bmc: BmcAccess): Record<string, string> => ({
  PATH: process.env["PATH"] ?? "/usr/bin:/bin",
  IPMI_PASSWORD: Redacted.value(bmc.password),
})

/** The per-BMC key: pacing, serialisation and error messages name a BMC by address:port. */
export const bmcKey = (bmc: BmcAccess): string => `${bmc.address}:${bmc.port}`
