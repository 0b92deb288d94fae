// The driver_info the redfish interfaces read (Ironic's names and meanings), the checks on it,
// and the node's BMC from it with the password unsealed.
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { PropertySpec } from "../../application/hardware/interfaces.ts"
import type { NodeState } from "../../domain/index.ts"
import { Secrets } from "../../ports/index.ts"

export const properties: ReadonlyArray<PropertySpec> = [
  { name: "redfish_address", description: "The BMC's Redfish URL (https://host[:port]); a bare host means https.", required: true },
  { name: "redfish_system_id", description: "The system's path (/redfish/v1/Systems/ID); optional when the BMC manages one system." },
  { name: "redfish_username", description: "User name for the BMC." },
  { name: "redfish_password", description: "Password for the BMC.", secret: true },
  { name: "redfish_verify_ca", description: "True (default: verify against the system's CAs), False (no verification) or the path of a CA bundle." },
  { name: "redfish_auth_type", description: "basic, session or auto (default: a session, basic where the BMC has no session service)." },
]

export type AuthType = "basic" | "session" | "auto"
/** true: the system's CAs; false: none (an explicit choice); string: a CA bundle file. */
export type VerifyCa = boolean | string

export interface RedfishBmc {
  readonly origin: string
  readonly systemId: string | null
  readonly username: string
  readonly password: Redacted.Redacted<string>
  readonly verifyCa: VerifyCa
  readonly authType: AuthType
}

const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : null)

const originOf = (address: string): string | null => {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `https://${address}`)
    if (url.protocol !== "https:" && url.protocol !== "http:") return null
    if (url.username !== "" || url.password !== "") return null
    return url.origin
  } catch {
    return null
  }
}

const verifyOf = (v: unknown): VerifyCa | null => {
  if (v === undefined || v === null || v === true || v === "") return true
  if (v === false) return false
  if (typeof v !== "string") return null
  if (/^(true|yes|1|on)$/i.test(v)) return true
  if (/^(false|no|0|off)$/i.test(v)) return false
  return v.startsWith("/") ? v : null
}

/** Why present redfish_* values cannot work, or null: refused at enroll and update. */
export const checkInfo = (info: Readonly<Record<string, unknown>>): string | null => {
  const address = info["redfish_address"]
  if (address != null && (typeof address !== "string" || originOf(address) === null)) {
    return `driver_info.redfish_address must be an http(s) URL or a host name without credentials, got ${JSON.stringify(address)?.slice(0, 80)}.`
  }
  const system = info["redfish_system_id"]
  if (system != null && (typeof system !== "string" || !/^\/redfish\/v1\/Systems\/[^/?#]+$/.test(system))) {
    return `driver_info.redfish_system_id must be a path like /redfish/v1/Systems/ID, got ${JSON.stringify(system)?.slice(0, 80)}.`
  }
  if (verifyOf(info["redfish_verify_ca"]) === null) {
    return "driver_info.redfish_verify_ca must be True, False or the absolute path of a CA bundle."
  }
  const auth = info["redfish_auth_type"]
  if (auth != null && !["basic", "session", "auto"].includes(auth as string)) {
    return `driver_info.redfish_auth_type must be basic, session or auto, got ${JSON.stringify(auth)?.slice(0, 40)}.`
  }
  return null
}

export const validate = (n: NodeState): string | null =>
  text(n.driverInfo["redfish_address"]) === null ? "Missing the following Redfish properties in node's driver_info: redfish_address." : null

export const bmcOf = (n: NodeState) =>
  Effect.gen(function* () {
    const why = validate(n) ?? checkInfo(n.driverInfo)
    if (why !== null) return yield* Effect.fail({ message: why })
    const info = n.driverInfo
    const sealed = info["redfish_password"]
    const password = sealed !== null && typeof sealed === "object"
      ? yield* (yield* Secrets).open((sealed as { $sealed: string }).$sealed)
      : Redacted.make(text(sealed) ?? "")
    const bmc: RedfishBmc = {
      origin: originOf(text(info["redfish_address"])!)!,
      systemId: text(info["redfish_system_id"]),
      username: text(info["redfish_username"]) ?? "",
      password,
      verifyCa: verifyOf(info["redfish_verify_ca"])!,
      authType: (text(info["redfish_auth_type"]) ?? "auto") as AuthType,
    }
    return bmc
  })
