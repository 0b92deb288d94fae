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

/** Where each hardware type keeps a BMC address in driver_info; a type not listed gets none. */
const addressFields: Readonly<Record<string, (address: string) => Record<string, string>>> = {
  ipmi: (a) => ({ ipmi_address: a }),
  redfish: (a) => ({ redfish_address: `https://${a.includes(":") ? `[${a}]` : a}` }),
}

export const bmcDriverInfo = (driver: string, address: string | null): Record<string, string> =>
  address === null ? {} : addressFields[driver]?.(address) ?? {}

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
