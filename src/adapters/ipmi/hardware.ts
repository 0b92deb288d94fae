// The "ipmi" hardware type: power and boot device through ipmitool (IPMI v2 lanplus), PXE boot
// and the iSCSI deploy over the network (../netboot). Its interfaces declare the driver_info they
// read, refuse values that cannot work, and report what is missing in words.
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { ManagementInterface, PowerInterface, PropertySpec } from "../../application/hardware/interfaces.ts"
import type { Vendor } from "../../application/hardware/hardware-type.ts"
import type { NodeState } from "../../domain/index.ts"
import { Secrets, type BmcAccess, type PowerDriver } from "../../ports/index.ts"
import { unsupportedSlots } from "../common/declared.ts"
import type { IpmitoolConfig } from "./config.ts"
import { makeIpmitoolPowerDriver } from "./ipmitool-power-driver.ts"
import { ipmitoolConsole } from "./console.ts"

export const properties: ReadonlyArray<PropertySpec> = [
  { name: "ipmi_address", description: "IP address or host name of the node's BMC.", required: true },
  { name: "ipmi_port", description: "UDP port of the BMC; default 623." },
  { name: "ipmi_username", description: "BMC user name; default: none (anonymous)." },
  { name: "ipmi_password", description: "BMC password; default: none.", secret: true },
  { name: "ipmi_min_command_interval_ms", description: "Pause between two commands to this BMC, in ms." },
]

const hostOrIp = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[?[0-9A-Fa-f:.]+\]?$/

const portLike = (v: unknown) =>
  (typeof v === "number" || (typeof v === "string" && /^\d{1,5}$/.test(v))) && Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 65535

/** Why present ipmi_* values cannot work, or null: refused at enroll and update. */
export const checkInfo = (info: Readonly<Record<string, unknown>>): string | null => {
  const address = info["ipmi_address"]
  if (address !== undefined && address !== null && (typeof address !== "string" || !hostOrIp.test(address))) {
    return `driver_info.ipmi_address must be a host name or an IP address, got ${JSON.stringify(address)?.slice(0, 60)}.`
  }
  const port = info["ipmi_port"]
  if (port !== undefined && port !== null && !portLike(port)) {
    return `driver_info.ipmi_port must be a port number from 1 to 65535, got ${JSON.stringify(port)?.slice(0, 40)}.`
  }
  const user = info["ipmi_username"]
  if (user !== undefined && user !== null && (typeof user !== "string" || Buffer.byteLength(user) > 16)) {
    return "driver_info.ipmi_username must be a string of at most 16 bytes (the IPMI limit)."
  }
  const interval = info["ipmi_min_command_interval_ms"]
  if (interval !== undefined && interval !== null && !(Number.isFinite(Number(interval)) && Number(interval) >= 0)) {
    return `driver_info.ipmi_min_command_interval_ms must be a number of ms >= 0, got ${JSON.stringify(interval)?.slice(0, 40)}.`
  }
  return null
}

const missing = (n: NodeState) => (n.driverInfo["ipmi_address"] == null || n.driverInfo["ipmi_address"] === "" ? ["ipmi_address"] : [])

export const validate = (n: NodeState) => {
  const absent = missing(n)
  return absent.length === 0 ? null : `Missing the following IPMI credentials in node's driver_info: ${absent.join(", ")}.`
}

const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null)

/** The node's BMC from its driver_info, the password unsealed; a missing address fails in words. */
export const bmcOf = (n: NodeState) =>
  Effect.gen(function* () {
    const why = validate(n)
    if (why !== null) return yield* Effect.fail({ message: why })
    const info = n.driverInfo
    const sealed = info["ipmi_password"]
    const password = sealed !== null && typeof sealed === "object"
      ? yield* (yield* Secrets).open(sealed.$sealed)
      : Redacted.make(text(sealed) ?? "")
    const interval = Number(text(info["ipmi_min_command_interval_ms"]) ?? NaN)
    const bmc: BmcAccess = {
      address: text(info["ipmi_address"])!,
      port: Number(text(info["ipmi_port"]) ?? 623),
      username: text(info["ipmi_username"]) ?? "",
      password,
      ...(Number.isFinite(interval) ? { minCommandIntervalMs: interval } : {}),
    }
    return bmc
  })

/** A refused login with no password given says so, instead of the BMC's "RAKP 2 HMAC is invalid". */
const explained = <A, R>(n: NodeState, work: Effect.Effect<A, { readonly message: string; readonly _tag?: string }, R>) =>
  Effect.mapError(work, (e) =>
    e._tag === "BmcAuthFailed" && (n.driverInfo["ipmi_password"] == null || n.driverInfo["ipmi_password"] === "")
      ? { message: `${e.message} (driver_info has no ipmi_password)` }
      : e)

export const ipmitoolInterfaces = (driver: PowerDriver["Service"]) => {
  const via = <A>(act: (bmc: BmcAccess) => Effect.Effect<A, { readonly message: string; readonly _tag?: string }>) =>
    (n: NodeState) => explained(n, Effect.flatMap(bmcOf(n), act))
  const description = "IPMI v2 (lanplus) through ipmitool."
  const power: PowerInterface = {
    slot: "power", name: "ipmitool", description, properties, checkInfo, validate,
    status: via(driver.status),
    powerOn: via(driver.powerOn),
    powerOff: via(driver.powerOff),
    softPowerOff: via(driver.softPowerOff),
    reboot: via(driver.reboot),
  }
  const management: ManagementInterface = {
    slot: "management", name: "ipmitool", description, properties, checkInfo, validate,
    setBootDevice: (n, device, persistent) => via((bmc) => driver.setBootDevice(bmc, device, persistent))(n),
    injectNmi: via(driver.injectNmi),
  }
  return { power, management }
}

/** The vendor: the ipmi hardware type and its ipmitool interfaces (boot and deploy come from netboot). */
export const ipmi = (config: Partial<IpmitoolConfig> = {}): Vendor => {
  const { power, management } = ipmitoolInterfaces(makeIpmitoolPowerDriver(config))
  return {
    hardwareTypes: [{
      name: "ipmi",
      description: "Servers with an IPMI BMC: power and boot device over IPMI, PXE boot, iSCSI deploy.",
      interfaces: { ...unsupportedSlots, power: ["ipmitool"], management: ["ipmitool"], boot: ["pxe"], deploy: ["iscsi"], console: ["no-console", "ipmitool-socat"], inspect: ["agent", "no-inspect"], rescue: ["agent", "no-rescue"], raid: ["no-raid", "agent"] },
    }],
    interfaces: [power, management, ipmitoolConsole(config)],
  }
}
