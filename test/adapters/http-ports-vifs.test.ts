// Port PATCH and node VIFs over real HTTP: what Nova's driver does to plug a Neutron port.
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

const node = async (name: string, macs: ReadonlyArray<string>) => {
  const n = await call("POST", "/v1/nodes", { driver: "fake-hardware", name })
  assert.equal(n.status, 201, n.text)
  const ports: Array<string> = []
  for (const address of macs) {
    const p = await call("POST", "/v1/ports", { address, node_uuid: n.body.uuid })
    assert.equal(p.status, 201, p.text)
    ports.push(p.body.uuid)
  }
  return { uuid: n.body.uuid as string, ports }
}

describe("ports", () => {
  test("PATCH changes address, extra, pxe_enabled, local_link_connection and physical_network, and refuses the rest", async () => {
    const { ports: [port] } = await node("port-patch", ["52:54:00:aa:00:01"])
    await node("port-other", ["52:54:00:aa:00:02"])
    const r = await call("PATCH", `/v1/ports/${port}`, [
      { op: "replace", path: "/address", value: "52-54-00-AA-00-09" },
      { op: "add", path: "/extra/slot", value: "2" },
      { op: "replace", path: "/pxe_enabled", value: false },
      { op: "add", path: "/local_link_connection", value: { switch_id: "00:11:22:33:44:55", port_id: "Eth1/3", switch_info: "tor-1" } },
      { op: "add", path: "/physical_network", value: "physnet1" },
    ])
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(
      [r.body.address, r.body.extra, r.body.pxe_enabled, r.body.local_link_connection.port_id, r.body.physical_network],
      ["52:54:00:aa:00:09", { slot: "2" }, false, "Eth1/3", "physnet1"],
    )
    assert.equal((await call("GET", "/v1/ports?address=52:54:00:aa:00:09")).body.ports.length, 1)
    assert.equal((await call("GET", "/v1/ports?address=52:54:00:aa:00:01")).body.ports.length, 0)
    const refused: Array<[unknown, number]> = [
      [[{ op: "replace", path: "/address", value: "52:54:00:aa:00:02" }], 409],
      [[{ op: "replace", path: "/node_uuid", value: port }], 400],
      [[{ op: "add", path: "/uuid", value: port }], 400],
      [[{ op: "add", path: "/extra/__proto__", value: 1 }], 400],
      [[{ op: "add", path: "/local_link_connection/colour", value: "red" }], 400],
      [[{ op: "add", path: "/local_link_connection/switch_id", value: "not-a-mac" }], 400],
      [[{ op: "replace", path: "/pxe_enabled", value: "sometimes" }], 400],
      [[{ op: "remove", path: "/address" }], 400],
    ]
    for (const [body, status] of refused) {
      const bad = await call("PATCH", `/v1/ports/${port}`, body)
      assert.equal(bad.status, status, `${JSON.stringify(body)}: ${bad.text}`)
    }
    const old = await call("PATCH", `/v1/ports/${port}`, [{ op: "add", path: "/physical_network", value: "p" }], { "X-OpenStack-Ironic-API-Version": "1.33" })
    assert.equal(old.status, 406)
    const unset = await call("PATCH", `/v1/ports/${port}`, [{ op: "remove", path: "/physical_network" }, { op: "remove", path: "/extra" }, { op: "remove", path: "/pxe_enabled" }])
    assert.deepEqual([unset.body.physical_network, unset.body.extra, unset.body.pxe_enabled], [null, {}, true])
  })
})

describe("VIFs", () => {
  test("attach lands on a free port, PXE ports first, and is recorded as internal_info.tenant_vif_port_id", async () => {
    const n = await node("vif-node", ["52:54:00:bb:00:01", "52:54:00:bb:00:02"])
    assert.equal((await call("PATCH", `/v1/ports/${n.ports[0]}`, [{ op: "replace", path: "/pxe_enabled", value: false }])).status, 200)
    const vifs = `/v1/nodes/vif-node/vifs`
    assert.equal((await call("POST", vifs, { id: "vif-a" })).status, 204)
    const onPxe = await call("GET", `/v1/ports/${n.ports[1]}`)
    assert.deepEqual(onPxe.body.internal_info, { tenant_vif_port_id: "vif-a" })
    const again = await call("POST", vifs, { id: "vif-a" })
    assert.equal(again.status, 409)
    assert.equal((await call("POST", vifs, { id: "vif-b" })).status, 204)
    const full = await call("POST", vifs, { id: "vif-c" })
    assert.equal(full.status, 400)
    assert.match(messageOf(full), /free physical ports/)
    assert.deepEqual((await call("GET", vifs)).body, { vifs: [{ id: "vif-b" }, { id: "vif-a" }] })
    const moving = await call("PATCH", `/v1/ports/${n.ports[1]}`, [{ op: "replace", path: "/address", value: "52:54:00:bb:00:09" }])
    assert.equal(moving.status, 409)
    assert.equal((await call("DELETE", `${vifs}/vif-a`)).status, 204)
    assert.equal((await call("DELETE", `${vifs}/vif-a`)).status, 400)
    assert.deepEqual((await call("GET", vifs)).body, { vifs: [{ id: "vif-b" }] })
    for (const body of [{}, { id: 7 }, { id: "a b" }, { id: "x", extra: 1 }]) {
      assert.equal((await call("POST", vifs, body)).status, 400, JSON.stringify(body))
    }
    assert.equal((await call("GET", vifs, undefined, { "X-OpenStack-Ironic-API-Version": "1.27" })).status, 404)
    const types = (await readEvents(svc.db)).filter((e) => e.streamId.endsWith(n.uuid)).map((e) => e.type)
    assert.deepEqual(types.filter((t) => t.startsWith("Vif")), ["VifAttached", "VifAttached", "VifDetached"])
  })
})
