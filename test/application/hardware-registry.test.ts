// The registry of hardware types and interfaces: what vendors register, what a service enables,
// and how a node's interfaces are chosen and checked.
import { test } from "node:test"
import assert from "node:assert/strict"
import * as E from "fp-ts/lib/Either.js"
import { makeRegistry } from "../../src/application/hardware/registry.ts"
import type { BootInterface } from "../../src/application/hardware/interfaces.ts"
import type { Vendor } from "../../src/application/hardware/hardware-type.ts"
import { looksSecret } from "../../src/application/secret-fields.ts"
import { notSupported } from "../../src/adapters/common/declared.ts"
import { fakeHardware } from "../../src/adapters/fake/index.ts"
import { ipmi } from "../../src/adapters/ipmi/hardware.ts"
import { initialState, type Uuid } from "../../src/domain/index.ts"

// Stand-ins named as the network boot and deploy interfaces the ipmi type names (their real ones need a TFTP tree).
const fakeBoot = fakeHardware.interfaces.find((i): i is BootInterface => i.slot === "boot")!
const pxeAndIscsi: Vendor = { hardwareTypes: [], interfaces: [
  { ...fakeBoot, name: "pxe" },
  { slot: "deploy", name: "iscsi", description: "stand-in", properties: [], style: "instant" },
] }

const node = (driver: string, interfaces = {}, driverInfo = {}) => ({ ...initialState("00000000-0000-4000-8000-000000000001" as Uuid), driver, interfaces, driverInfo })

test("a node takes its hardware type's defaults, may choose among what the type supports, and is told what it supports", () => {
  const r = makeRegistry([notSupported, fakeHardware])
  const chosen = r.choose("fake-hardware", {})
  assert.ok(E.isRight(chosen))
  assert.equal(chosen.right.power, "fake")
  assert.equal(chosen.right.network, "noop")
  const other = r.choose("fake-hardware", { inspect: "no-inspect" })
  assert.ok(E.isRight(other) && other.right.inspect === "no-inspect")
  const wrong = r.choose("fake-hardware", { power: "ipmitool" })
  assert.ok(E.isLeft(wrong))
  assert.match(wrong.left, /does not support power_interface "ipmitool"; it supports: fake/)
  const unknown = r.choose("acme", {})
  assert.ok(E.isLeft(unknown))
  assert.match(unknown.left, /Could not find the following driver\(s\) or hardware type\(s\): acme\. Enabled here: fake-hardware/)
  // Asked again (every node view asks): a valid choice is the one answer kept, a refused one is refused again.
  assert.equal(r.choose("fake-hardware", {}), chosen)
  assert.equal(r.choose("fake-hardware", { inspect: "no-inspect" }), other)
  assert.ok(E.isLeft(r.choose("fake-hardware", { power: "ipmitool" })))
})

test("what the service enables: other types are unknown to nodes, a disabled interface is neither default nor choosable", () => {
  const r = makeRegistry([notSupported, fakeHardware, pxeAndIscsi, ipmi()], {
    hardwareTypes: ["fake-hardware"], interfaces: { inspect: ["no-inspect"] },
  })
  assert.deepEqual(r.hardwareTypes.map((t) => t.name), ["fake-hardware"])
  assert.ok(E.isLeft(r.choose("ipmi", {})))
  const chosen = r.choose("fake-hardware", {})
  assert.ok(E.isRight(chosen) && chosen.right.inspect === "no-inspect")
  assert.ok(E.isLeft(r.choose("fake-hardware", { inspect: "fake" })))
  assert.throws(() => makeRegistry([notSupported, fakeHardware], { hardwareTypes: ["ipmi"] }), /enabled hardware type "ipmi" is not registered/)
})

test("registration refuses two interfaces of one name in a slot, and a type naming an interface nobody registered", () => {
  assert.throws(() => makeRegistry([notSupported, notSupported]), /two bios interfaces are named "no-bios"/)
  assert.throws(() => makeRegistry([notSupported, ipmi()]), /hardware type ipmi: no boot interface named pxe is registered/)
})

test("ipmi: properties with what is required and secret, values refused at enroll, what validate reports", () => {
  const r = makeRegistry([notSupported, pxeAndIscsi, ipmi()])
  const listed = r.properties("ipmi").map((p) => p.name)
  assert.deepEqual(listed, [...new Set(listed)], "a setting two interfaces share is listed once")
  const props = new Map(r.properties("ipmi").map((p) => [p.name, p]))
  assert.equal(props.get("ipmi_address")?.required, true)
  assert.equal(props.get("ipmi_password")?.secret, true)
  assert.deepEqual([...r.secretFields("ipmi", {})], ["ipmi_password"])
  assert.match(r.checkInfo("ipmi", {}, { ipmi_address: "not a host!" }) ?? "", /ipmi_address must be a host name or an IP address/)
  assert.match(r.checkInfo("ipmi", {}, { ipmi_address: "bmc-7.rack2.example", ipmi_port: 70000 }) ?? "", /ipmi_port must be a port number from 1 to 65535/)
  assert.equal(r.checkInfo("ipmi", {}, { ipmi_address: "10.0.0.7", ipmi_port: "623", ipmi_username: "admin" }), null)
  assert.equal(r.checkInfo("ipmi", {}, { ipmi_address: "fe80::1" }), null)
  const checks = r.validate(node("ipmi"))
  assert.equal(checks.power.result, false)
  assert.match(checks.power.reason ?? "", /Missing the following IPMI credentials in node's driver_info: ipmi_address/)
  // The agent inspects (ADR 0058); no-bios is still "not supported".
  assert.equal(checks.inspect.result, true)
  assert.equal(checks.bios.result, null)
  assert.equal(r.validate(node("ipmi", {}, { ipmi_address: "10.0.0.7" })).power.result, true)
})

test("credentials are recognised by name or by value, whatever the vendor calls them", () => {
  for (const name of ["ipmi_password", "ipmi_passwd", "bmc_pass", "snmp_community", "redfish_token", "api_secret", "ssh_private_key", "kg_key"]) {
    assert.ok(looksSecret(name, "x"), name)
  }
  assert.ok(looksSecret("image_url", "https://user:pw@host/img"))
  for (const [name, value] of [["ipmi_address", "10.0.0.1"], ["ipmi_username", "admin"], ["deploy_kernel", "/k"], ["image_url", "https://host/img"], ["passthru_mode", "on"]]) {
    assert.ok(!looksSecret(name!, value), `${name}=${value}`)
  }
})
