// The driver_info a discovered node starts from (ADR 0141): the in-band BMC address in the type's
// field, where the BMC listens (port, Redfish URL) from the configured defaults, credentials only
// with auto-enroll, and the default address where the inventory has none.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { discoveredDriverInfo, type DiscoverySettings } from "../../src/application/discovery/settings.ts"

const ipmiDefaults = { ipmi_port: 9001, ipmi_username: "admin", ipmi_password: "pw", ipmi_address: "10.0.0.250" }
const settings = (over: Partial<DiscoverySettings>): DiscoverySettings => ({ enabled: true, autoEnroll: true, driver: "ipmi", driverInfo: ipmiDefaults, ...over })

test("ipmi: the in-band address with the default port and credentials; without auto-enroll the port only", () => {
  assert.deepEqual(discoveredDriverInfo(settings({}), "192.0.2.7"), { ...ipmiDefaults, ipmi_address: "192.0.2.7" })
  assert.deepEqual(discoveredDriverInfo(settings({ autoEnroll: false }), "192.0.2.7"), { ipmi_port: 9001, ipmi_address: "192.0.2.7" })
  // No address read in-band: the default's, if the site gave one.
  assert.deepEqual(discoveredDriverInfo(settings({}), null), ipmiDefaults)
  assert.deepEqual(discoveredDriverInfo(settings({ autoEnroll: false, driverInfo: {} }), null), {})
})

test("redfish: the default URL's scheme, port and path with the in-band host", () => {
  const redfish = (address: string | null, redfish_address?: string) =>
    discoveredDriverInfo(settings({ driver: "redfish", driverInfo: { redfish_username: "u", ...(redfish_address === undefined ? {} : { redfish_address }) } }), address)
  assert.deepEqual(redfish("192.0.2.8", "http://0.0.0.0:8000"), { redfish_username: "u", redfish_address: "http://192.0.2.8:8000" })
  assert.equal(redfish("192.0.2.8", "https://bmc.example:8443/redfish/")["redfish_address"], "https://192.0.2.8:8443/redfish/")
  assert.equal(redfish("2001:db8::9", "bmc:8443")["redfish_address"], "https://[2001:db8::9]:8443")
  assert.equal(redfish("2001:db8::9")["redfish_address"], "https://[2001:db8::9]")
  assert.equal(redfish(null, "https://proxy:8443")["redfish_address"], "https://proxy:8443")
})

test("property: credentials never without auto-enroll, the in-band address always wins, nothing else invented", () => {
  const key = fc.constantFrom("ipmi_address", "ipmi_port", "ipmi_username", "ipmi_password", "ipmi_min_command_interval_ms", "other")
  const value = fc.oneof(fc.string(), fc.integer(), fc.boolean())
  const address = fc.option(fc.ipV4(), { nil: null })
  fc.assert(fc.property(fc.dictionary(key, value), fc.boolean(), address, (defaults, autoEnroll, bmc) => {
    const info = discoveredDriverInfo(settings({ autoEnroll, driverInfo: defaults }), bmc)
    if (bmc !== null) assert.equal(info["ipmi_address"], bmc)
    if (!autoEnroll) for (const k of Object.keys(info)) assert.ok(["ipmi_address", "ipmi_port"].includes(k), k)
    for (const [k, v] of Object.entries(info)) if (!(k === "ipmi_address" && bmc !== null)) assert.equal(v, defaults[k])
    if (autoEnroll) for (const k of Object.keys(defaults)) assert.ok(k in info)
  }))
})
