// What the service does with a machine it does not know that posts its inventory (ADR 0090).
import { isIP } from "node:net"

export interface DiscoverySettings {
  /** Unknown machines get the discovery ramdisk and their post makes a node; off: the endpoint answers 404. */
  readonly enabled: boolean
  /** The new node gets `driverInfo` and is managed at once (its BMC checked); off: it waits in enroll. */
  readonly autoEnroll: boolean
  /** The hardware type of discovered nodes (Ironic's [auto_discovery] driver). */
  readonly driver: string
  /** driver_info every auto-enrolled node starts from (credentials, port); the BMC address read in-band is added. */
  readonly driverInfo: Readonly<Record<string, string | number | boolean>>
}

export const discoveryOff: DiscoverySettings = { enabled: false, autoEnroll: false, driver: "ipmi", driverInfo: {} }

type Info = Record<string, string | number | boolean>

/** A literal address as a URL's host: IPv6 in brackets. */
const urlHost = (address: string) => address.includes(":") ? `[${address}]` : address

/**
 * The redfish URL of an address read in-band: the scheme, port and path of the default
 * `redfish_address` (a BMC's Redfish service may listen on another port than 443), its host replaced.
 */
const redfishAt = (address: string, defaults: Readonly<Info>): string => {
  const given = defaults["redfish_address"]
  if (typeof given === "string" && URL.canParse(given.includes("://") ? given : `https://${given}`)) {
    const url = new URL(given.includes("://") ? given : `https://${given}`)
    url.hostname = urlHost(address)
    return url.pathname === "/" && !given.endsWith("/") ? url.origin : url.href
  }
  return `https://${urlHost(address)}`
}

interface BmcFields {
  /** driver_info naming the BMC at an address read in-band. */
  readonly at: (address: string, defaults: Readonly<Info>) => Info
  /** Default fields that say where the BMC is, not who may use it: given even without auto-enroll. */
  readonly location: ReadonlyArray<string>
}

/** Where each hardware type keeps a BMC address in driver_info; a type not listed gets none. */
const bmcFields: Readonly<Record<string, BmcFields>> = {
  ipmi: { at: (a) => ({ ipmi_address: a }), location: ["ipmi_address", "ipmi_port"] },
  redfish: { at: (a, d) => ({ redfish_address: redfishAt(a, d) }), location: ["redfish_address", "redfish_system_id", "redfish_verify_ca"] },
}

/**
 * The driver_info of a discovered node (ADR 0141): the configured defaults (all of them with
 * auto-enroll; without it only those saying where the BMC is, such as its port: credentials are
 * sent to an address an unauthenticated machine named only when the operator chose auto-enroll),
 * with the BMC address read in-band in the type's address field. Where the inventory has no
 * address, the default's stays.
 */
export const discoveredDriverInfo = (settings: DiscoverySettings, bmcAddress: string | null): Info => {
  const fields = bmcFields[settings.driver]
  const defaults = settings.driverInfo
  const kept = settings.autoEnroll ? { ...defaults }
    : Object.fromEntries(Object.entries(defaults).filter(([k]) => fields?.location.includes(k) ?? false))
  return bmcAddress === null || fields === undefined ? kept : { ...kept, ...fields.at(bmcAddress, defaults) }
}

/**
 * The BMC address as the ramdisk read it, if it is one a BMC can have: an IPv4 or IPv6 literal
 * (never a host name, which would send the conductor's IPMI wherever a DNS answer points), not
 * unspecified, loopback, multicast or broadcast. Anything else is left out (null), not refused:
 * a BMC without a configured address is common and the inventory is still worth taking.
 */
export const plausibleBmcAddress = (raw: unknown): string | null => {
  if (typeof raw !== "string") return null
  const a = raw.trim().toLowerCase()
  const family = isIP(a)
  if (family === 4) {
    const [first] = a.split(".").map(Number)
    if (a === "0.0.0.0" || a === "255.255.255.255" || first === 127 || (first! >= 224 && first! <= 239)) return null
    return a
  }
  if (family === 6) return a === "::" || a === "::1" || a.startsWith("ff") ? null : a
  return null
}
