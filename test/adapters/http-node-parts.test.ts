// Port groups (1.23/1.24/1.26), volume connectors and targets (1.32), inject NMI (1.29),
// reset_interfaces (1.45), conductors (1.49) and is_smartnic (1.53) over real HTTP.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { client, messageOf, readEvents, startTestService, type TestService } from "./http-harness.ts"

let svc: TestService
let call: ReturnType<typeof client>

before(async () => {
  svc = await startTestService()
  call = client(svc.url)
})
after(async () => { await svc?.close() })

const at = (minor: number) => ({ "X-OpenStack-Ironic-API-Version": `1.${minor}` })
const created = async (path: string, body: unknown) => {
  const r = await call("POST", path, body)
  assert.equal(r.status, 201, `${path}: ${r.text}`)
  return r.body
}
const node = (name: string, driver = "fake-hardware") => created("/v1/nodes", { driver, name })

describe("port groups", () => {
  test("created with Ironic's defaults, listed, shown by name, gated by version, joined by ports", async () => {
    const n = await node("pg-node")
    const other = await node("pg-other")
    const g = await created("/v1/portgroups", { node_uuid: n.uuid, name: "bond0", address: "52-54-00-AB-00-01", properties: { miimon: "100" } })
    assert.deepEqual([g.name, g.address, g.mode, g.standalone_ports_supported, g.properties, g.node_uuid], ["bond0", "52:54:00:ab:00:01", "active-backup", true, { miimon: "100" }, n.uuid])
    assert.equal((await call("POST", "/v1/portgroups", { node_uuid: other.uuid, name: "bond0" })).status, 409)
    assert.equal((await call("POST", "/v1/portgroups", { node_uuid: other.uuid, address: "52:54:00:ab:00:01" })).status, 409)
    assert.equal((await call("POST", "/v1/portgroups", { node_uuid: n.uuid, colour: "red" })).status, 400)
    assert.equal((await call("GET", "/v1/portgroups", undefined, at(22))).status, 404)
    assert.equal((await call("POST", "/v1/portgroups", { node_uuid: n.uuid, mode: "802.3ad" }, at(25))).status, 406)
    const old = await call("GET", `/v1/portgroups/${g.uuid}`, undefined, at(25))
    assert.equal(old.status, 200)
    assert.equal(old.body.mode, undefined, "mode is hidden below 1.26")
    assert.deepEqual((await call("GET", "/v1/portgroups")).body.portgroups.map((x: any) => Object.keys(x).sort()), [["address", "links", "name", "uuid"]])
    assert.equal((await call("GET", "/v1/portgroups/bond0")).body.uuid, g.uuid)
    assert.equal((await call("GET", `/v1/nodes/pg-node/portgroups/detail`)).body.portgroups[0].mode, "active-backup")
    assert.equal((await call("GET", `/v1/nodes/pg-node/portgroups`, undefined, at(23))).status, 404)
    assert.equal((await call("GET", "/v1/portgroups?bogus=1")).status, 400)

    const port = await created("/v1/ports", { address: "52:54:00:ab:00:11", node_uuid: n.uuid, portgroup_uuid: g.uuid })
    assert.equal(port.portgroup_uuid, g.uuid)
    const stray = await call("POST", "/v1/ports", { address: "52:54:00:ab:00:12", node_uuid: other.uuid, portgroup_uuid: g.uuid })
    assert.equal(stray.status, 400)
    assert.match(messageOf(stray), /same node/)
    assert.deepEqual((await call("GET", `/v1/portgroups/${g.uuid}/ports`)).body.ports.map((p: any) => p.uuid), [port.uuid])
    const busy = await call("DELETE", `/v1/portgroups/${g.uuid}`)
    assert.equal(busy.status, 400)
    assert.match(messageOf(busy), /contains ports/)

    const patched = await call("PATCH", `/v1/portgroups/bond0`, [
      { op: "replace", path: "/mode", value: "802.3ad" }, { op: "add", path: "/extra/rack", value: "r1" },
      { op: "replace", path: "/standalone_ports_supported", value: "False" },
    ])
    assert.equal(patched.status, 200, patched.text)
    assert.deepEqual([patched.body.mode, patched.body.extra, patched.body.standalone_ports_supported], ["802.3ad", { rack: "r1" }, false])
    for (const [ops, status] of [
      [[{ op: "remove", path: "/mode" }], 400], [[{ op: "replace", path: "/node_uuid", value: other.uuid }], 400],
      [[{ op: "add", path: "/extra/__proto__", value: 1 }], 400], [[{ op: "replace", path: "/uuid", value: g.uuid }], 400],
    ] as const) assert.equal((await call("PATCH", `/v1/portgroups/${g.uuid}`, ops)).status, status, JSON.stringify(ops))
    assert.equal((await call("PATCH", `/v1/portgroups/${g.uuid}`, [{ op: "replace", path: "/mode", value: "balance-rr" }], at(25))).status, 406)

    assert.equal((await call("PATCH", `/v1/ports/${port.uuid}`, [{ op: "remove", path: "/portgroup_uuid" }])).body.portgroup_uuid, null)
    assert.equal((await call("DELETE", `/v1/portgroups/${g.uuid}`)).status, 204)
    assert.equal((await call("GET", `/v1/portgroups/${g.uuid}`)).status, 404)
    // The node's stream holds the group's life, in order, for auditors to replay.
    const types = (await readEvents(svc.db)).filter((e) => e.streamId === `node-${n.uuid}`).map((e) => e.type)
    assert.deepEqual(types.filter((t) => t.startsWith("Portgroup")), ["PortgroupCreated", "PortgroupUpdated", "PortgroupDeleted"])
  })
})

describe("volume connectors and targets", () => {
  test("stored with their node, unique as Ironic keeps them, changed only while the node is off", async () => {
    const n = await node("vol-node")
    assert.equal((await call("GET", "/v1/volume", undefined, at(31))).status, 404)
    assert.ok((await call("GET", "/v1/volume")).body.connectors)
    const c = await created("/v1/volume/connectors", { node_uuid: n.uuid, type: "iqn", connector_id: "iqn.2026-11.org.example:node1" })
    assert.equal((await call("POST", "/v1/volume/connectors", { node_uuid: n.uuid, type: "iqn", connector_id: "iqn.2026-11.org.example:node1" })).status, 409)
    assert.equal((await call("POST", "/v1/volume/connectors", { node_uuid: n.uuid, type: "floppy", connector_id: "x" })).status, 400)
    const t = await created("/v1/volume/targets", { node_uuid: n.uuid, volume_type: "iscsi", volume_id: "vol-1", boot_index: 0, properties: { target_lun: 0 } })
    assert.equal((await call("POST", "/v1/volume/targets", { node_uuid: n.uuid, volume_type: "iscsi", volume_id: "vol-2", boot_index: 0 })).status, 409)
    assert.equal((await call("POST", "/v1/volume/targets", { node_uuid: n.uuid, volume_type: "iscsi", volume_id: "vol-2", boot_index: -1 })).status, 400)
    assert.deepEqual((await call("GET", `/v1/nodes/${n.uuid}/volume/connectors`)).body.connectors.map((x: any) => x.uuid), [c.uuid])
    assert.deepEqual((await call("GET", `/v1/volume/targets?node=vol-node`)).body.targets.map((x: any) => [x.uuid, x.boot_index]), [[t.uuid, 0]])
    assert.equal((await call("GET", `/v1/volume/targets/${t.uuid}`)).body.properties.target_lun, 0)
    const patch = await call("PATCH", `/v1/volume/connectors/${c.uuid}`, [{ op: "add", path: "/extra/a", value: 1 }])
    assert.equal(patch.status, 409, "the node's power is not off")
    assert.match(messageOf(patch), /power/)
    assert.equal((await call("DELETE", `/v1/volume/targets/${t.uuid}`)).status, 204, "an enrolled node's target may be deleted")
    assert.equal((await call("DELETE", `/v1/volume/connectors/${c.uuid}`)).status, 204)
    assert.equal((await call("GET", `/v1/volume/connectors/${c.uuid}`)).status, 404)
  })
})

describe("management, interfaces, conductors, Smart NIC ports", () => {
  test("inject NMI goes through the management interface; fake has none, as in Ironic", async () => {
    const fake = await node("nmi-fake")
    const refused = await call("PUT", `/v1/nodes/${fake.uuid}/management/inject_nmi`, {})
    assert.equal(refused.status, 400)
    assert.match(messageOf(refused), /management interface fake does not support inject_nmi/)
    assert.equal((await call("PUT", `/v1/nodes/${fake.uuid}/management/inject_nmi`, {}, at(28))).status, 404)
    const sim = await node("nmi-sim", "sim")
    const off = await call("PUT", `/v1/nodes/${sim.uuid}/management/inject_nmi`, {})
    assert.equal(off.status, 400, off.text)
    assert.match(messageOf(off), /off/)
    assert.equal((await call("PUT", `/v1/nodes/${sim.uuid}/states/power`, { target: "power on" })).status, 202)
    for (let i = 0; i < 200 && (await call("GET", `/v1/nodes/${sim.uuid}`)).body.power_state !== "power on"; i++) await new Promise((r) => setTimeout(r, 25))
    const nmi = await call("PUT", `/v1/nodes/${sim.uuid}/management/inject_nmi`, {})
    assert.equal(nmi.status, 204, nmi.text)
    const history = (await call("GET", `/v1/nodes/${sim.uuid}/history`)).body.history as Array<{ event_type?: string; event?: string }>
    const text = JSON.stringify(history)
    assert.match(text, /NMI requested through sim/)
    assert.match(text, /NMI injected/)
  })

  test("reset_interfaces: a new driver keeps the node's interfaces unless asked; gated at 1.45", async () => {
    const n = await node("reset-1")
    const kept = await call("PATCH", `/v1/nodes/${n.uuid}`, [{ op: "replace", path: "/driver", value: "ipmi" }])
    assert.equal(kept.status, 400, kept.text)
    assert.match(messageOf(kept), /reset_interfaces/)
    assert.equal((await call("PATCH", `/v1/nodes/${n.uuid}?reset_interfaces=true`, [{ op: "replace", path: "/driver", value: "ipmi" }], at(44))).status, 406)
    assert.equal((await call("PATCH", `/v1/nodes/${n.uuid}?reset_interfaces=true`, [{ op: "add", path: "/extra/a", value: "b" }])).status, 400)
    assert.equal((await call("PATCH", `/v1/nodes/${n.uuid}?bogus=1`, [{ op: "add", path: "/extra/a", value: "b" }])).status, 400)
    const reset = await call("PATCH", `/v1/nodes/${n.uuid}?reset_interfaces=True`, [{ op: "replace", path: "/driver", value: "ipmi" }])
    assert.equal(reset.status, 200, reset.text)
    assert.deepEqual([reset.body.driver, reset.body.power_interface, reset.body.management_interface], ["ipmi", "ipmitool", "ipmitool"])
  })

  test("conductors: this process's conductor, alive; gated at 1.49", async () => {
    const list = await call("GET", "/v1/conductors")
    assert.equal(list.status, 200, list.text)
    assert.deepEqual(list.body.conductors.map((c: any) => Object.keys(c).sort()), [["alive", "conductor_group", "hostname", "links"]])
    const [self] = list.body.conductors
    assert.equal(self.alive, true)
    const shown = await call("GET", `/v1/conductors/${self.hostname}`)
    assert.ok(shown.body.drivers.includes("fake-hardware"))
    assert.equal((await call("GET", "/v1/conductors/nobody")).status, 404)
    assert.equal((await call("GET", "/v1/conductors", undefined, at(48))).status, 404)
    assert.equal((await call("GET", "/v1/conductors?detail=True")).body.conductors[0].drivers.length > 0, true)
  })

  test("is_smartnic: settable from 1.53, needs port_id and hostname in local_link_connection", async () => {
    const n = await node("smartnic-1")
    const port = await created("/v1/ports", { address: "52:54:00:ab:01:01", node_uuid: n.uuid })
    assert.equal(port.is_smartnic, false)
    const bare = await call("PATCH", `/v1/ports/${port.uuid}`, [{ op: "replace", path: "/is_smartnic", value: true }])
    assert.equal(bare.status, 400)
    assert.match(messageOf(bare), /port_id and hostname/)
    assert.equal((await call("PATCH", `/v1/ports/${port.uuid}`, [{ op: "replace", path: "/is_smartnic", value: true }], at(52))).status, 406)
    const ok = await call("PATCH", `/v1/ports/${port.uuid}`, [
      { op: "add", path: "/local_link_connection", value: { port_id: "rep0-0", hostname: "host-1" } },
      { op: "replace", path: "/is_smartnic", value: true },
    ])
    assert.equal(ok.status, 200, ok.text)
    assert.equal(ok.body.is_smartnic, true)
    const made = await created("/v1/ports", { address: "52:54:00:ab:01:02", node_uuid: n.uuid, is_smartnic: true, local_link_connection: { port_id: "rep0-1", hostname: "host-1" } })
    assert.equal(made.is_smartnic, true)
  })
})
