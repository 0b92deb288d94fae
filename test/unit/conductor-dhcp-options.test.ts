// `conductor --dhcp-interface IF --dhcp-range START,END[,NETMASK] [--dhcp-router-advertisements]`
// (ADR 0072, 0147): the first two both or neither,
// IPv4 addresses only (they go into dnsmasq's config).
import { test } from "node:test"
import assert from "node:assert/strict"
import { parseHostDhcp } from "../../src/cli/conductor-dhcp.ts"

test("the host's DHCP options", () => {
  assert.equal(parseHostDhcp(undefined, undefined), null)
  assert.deepEqual(parseHostDhcp("eth0", "10.0.0.100,10.0.0.149"), { interface: "eth0", start: "10.0.0.100", end: "10.0.0.149", netmask: "255.255.255.0", routerAdvertisements: false })
  assert.equal(parseHostDhcp("eth0", "10.0.0.100,10.0.0.149", true)?.routerAdvertisements, true)
  assert.throws(() => parseHostDhcp(undefined, undefined, true), /--dhcp-router-advertisements needs --dhcp-interface/)
  assert.deepEqual(parseHostDhcp("br-prov", "10.0.0.100,10.0.0.149,255.255.0.0")?.netmask, "255.255.0.0")
  assert.throws(() => parseHostDhcp("eth0", undefined), /go together/)
  assert.throws(() => parseHostDhcp(undefined, "10.0.0.1,10.0.0.2"), /go together/)
  for (const bad of ["10.0.0.1", "10.0.0.1,x", "10.0.0.1,10.0.0.2,255.0.0.0,1", "10.0.0.1,10.0.0.2\ndhcp-script=/bin/sh"])
    assert.throws(() => parseHostDhcp("eth0", bad), /START,END/, bad)
})

test("conductor --discovery needs the host's own DHCP (ADR 0140)", async () => {
  const { runConductor } = await import("../../src/cli/commands/conductor.ts")
  const args = { positionals: [], strings: { db: "/nonexistent/ironledger.db", name: "c1" }, lists: {}, flags: new Set(["discovery"]), numbers: {} }
  await assert.rejects(runConductor(args, {} as never, () => { throw new Error("the store must not be opened") }), /--discovery needs --dhcp-interface/)
})
