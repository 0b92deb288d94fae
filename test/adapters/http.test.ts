// The Ironic-v1-compatible API, driven over real HTTP (fetch) against the real service on an
// ephemeral loopback port, with its SQLite log in a temp dir.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { simulatedHardware } from "../../src/cli/hardware.ts"
import { client, errorOf, messageOf, readEvents, settleNode, startTestService, type TestService } from "./http-harness.ts"

let svc: TestService
let call: ReturnType<typeof client>

before(async () => {
  svc = await startTestService()
  call = client(svc.url)
})
after(async () => { await svc?.close() })

const enroll = async (body: Record<string, unknown>) => {
  const r = await call("POST", "/v1/nodes", body)
  assert.equal(r.status, 201, r.text)
  return r.body as Record<string, unknown> & { uuid: string }
}

describe("versions", () => {
  test("GET / describes v1 without version headers", async () => {
    const r = await call("GET", "/")
    assert.equal(r.status, 200)
    assert.equal(r.body.default_version.id, "v1")
    assert.equal(r.body.default_version.min_version, "1.1")
    assert.equal(r.body.default_version.version, "1.78")
    assert.equal(r.headers.get("x-openstack-ironic-api-maximum-version"), null)
  })

  test("every /v1 answer carries min, max, the negotiated version and a request id", async () => {
    const cases: Array<[string | undefined, string]> = [[undefined, "1.1"], ["latest", "1.78"], ["1.50", "1.50"], ["1.78", "1.78"]]
    for (const [asked, got] of cases) {
      const r = await call("GET", "/v1", undefined, asked === undefined ? {} : { "X-OpenStack-Ironic-API-Version": asked })
      assert.equal(r.status, 200)
      assert.equal(r.headers.get("x-openstack-ironic-api-minimum-version"), "1.1")
      assert.equal(r.headers.get("x-openstack-ironic-api-maximum-version"), "1.78")
      assert.match(r.headers.get("openstack-request-id") ?? "", /^req-[0-9a-f-]{36}$/)
      if (asked !== undefined) assert.equal(r.headers.get("x-openstack-ironic-api-version"), got)
    }
    const bare = await client(svc.url, {})("GET", "/v1/nodes")
    assert.equal(bare.headers.get("x-openstack-ironic-api-version"), "1.1")
  })

  test("versions out of range or garbage are refused with 406 and the supported range", async () => {
    for (const v of ["1.999", "1.0", "2.1", "garbage", "1.", "1.78.1", ""]) {
      const r = await call("GET", "/v1/nodes", undefined, { "X-OpenStack-Ironic-API-Version": v })
      assert.equal(r.status, 406, `version ${JSON.stringify(v)}`)
      assert.equal(r.headers.get("x-openstack-ironic-api-minimum-version"), "1.1")
      assert.equal(r.headers.get("x-openstack-ironic-api-maximum-version"), "1.78")
      const inner = errorOf(r)
      assert.equal(inner["code"], 406)
    }
  })

  test("at 1.1 the name is hidden, as in Ironic", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "old-client" })
    const r = await client(svc.url, {})("GET", `/v1/nodes/${node.uuid}`)
    assert.equal(r.status, 200)
    assert.equal("name" in r.body, false)
    assert.equal(r.body.uuid, node.uuid)
  })
})

describe("nodes", () => {
  test("enroll answers 201 with Location; secrets come back masked; the node is found by uuid and name", async () => {
    const r = await call("POST", "/v1/nodes", {
      driver: "ipmi", name: "enroll-1",
      driver_info: { ipmi_address: "127.0.0.1", ipmi_port: 6230, ipmi_username: "admin", ipmi_password: "s3cret" },
      properties: { cpus: 4, memory_mb: 8192 },
    })
    assert.equal(r.status, 201, r.text)
    assert.equal(r.headers.get("location"), `${svc.url}/v1/nodes/${r.body.uuid}`)
    assert.equal(r.body.provision_state, "enroll")
    assert.equal(r.body.driver_info.ipmi_password, "******")
    assert.equal(r.body.driver_info.ipmi_address, "127.0.0.1")
    assert.ok(!r.text.includes("s3cret"))
    for (const ref of [r.body.uuid, "enroll-1"]) {
      const got = await call("GET", `/v1/nodes/${ref}`)
      assert.equal(got.status, 200)
      assert.equal(got.body.uuid, r.body.uuid)
      assert.equal(got.body.properties.cpus, 4)
    }
  })

  test("a duplicate name is a 409 conflict", async () => {
    await enroll({ driver: "fake-hardware", name: "dup-name" })
    const r = await call("POST", "/v1/nodes", { driver: "fake-hardware", name: "dup-name" })
    assert.equal(r.status, 409)
    assert.match(messageOf(r), /dup-name/)
  })

  test("bad enroll bodies are 400s that say what is wrong", async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ driver: "nope" }, /Could not find the following driver/],
      [{ name: "x" }, /driver/],
      [{ driver: "fake-hardware", colour: "red" }, /Additional properties are not allowed \('colour' was unexpected\)/],
      [{ driver: "fake-hardware", name: "has space" }, /name/],
      [{ driver: "fake-hardware", uuid: "not-a-uuid" }, /Expected a UUID/],
      [{ driver: "fake-hardware", driver_info: { nested: { a: 1 } } }, /driver_info/],
      [{ driver: "ipmi", driver_info: { ipmi_port: "http" } }, /ipmi_port/],
      [[1, 2], /node must be a JSON object/],
    ]
    for (const [body, message] of cases) {
      const r = await call("POST", "/v1/nodes", body)
      assert.equal(r.status, 400, JSON.stringify(body))
      assert.match(messageOf(r), message)
      assert.equal(errorOf(r)["faultcode"], "Client")
    }
  })

  test("non-JSON, broken JSON and oversized bodies are 415, 400 and 413", async () => {
    const text = await call("POST", "/v1/nodes", "driver=ipmi", { "Content-Type": "text/plain" })
    assert.equal(text.status, 415)
    errorOf(text)
    const broken = await call("POST", "/v1/nodes", "{\"driver\": ")
    assert.equal(broken.status, 400)
    assert.match(messageOf(broken), /not valid JSON/)
    const huge = await call("POST", "/v1/nodes", JSON.stringify({ driver: "fake-hardware", extra: { blob: "x".repeat(1_100_000) } }))
    assert.equal(huge.status, 413)
    errorOf(huge)
  })

  test("list pages with limit and a next link that covers every node exactly once", async () => {
    for (let i = 0; i < 5; i++) await enroll({ driver: "fake-hardware", name: `page-${i}` })
    const all = await call("GET", "/v1/nodes")
    const seen: Array<string> = []
    let path: string | undefined = "/v1/nodes?limit=2"
    let pages = 0
    while (path !== undefined) {
      const r = await call("GET", path)
      assert.equal(r.status, 200)
      assert.ok(r.body.nodes.length <= 2)
      seen.push(...r.body.nodes.map((n: { uuid: string }) => n.uuid))
      path = r.body.next === undefined ? undefined : new URL(r.body.next).pathname + new URL(r.body.next).search
      pages++
      assert.ok(pages < 100)
    }
    assert.deepEqual(seen, all.body.nodes.map((n: { uuid: string }) => n.uuid))
    assert.equal(new Set(seen).size, seen.length)
    assert.deepEqual(Object.keys(all.body.nodes[0]).sort(),
      ["instance_uuid", "links", "maintenance", "name", "power_state", "provision_state", "uuid"])
  })

  test("list filters and fields", async () => {
    const ipmi = await enroll({ driver: "ipmi", name: "filter-ipmi", driver_info: { ipmi_address: "127.0.0.1" } })
    const byDriver = await call("GET", "/v1/nodes?driver=ipmi")
    assert.ok(byDriver.body.nodes.some((n: { uuid: string }) => n.uuid === ipmi.uuid))
    assert.ok(byDriver.body.nodes.every((n: { uuid: string }) => n.uuid !== undefined))
    const fake = await call("GET", "/v1/nodes?driver=fake-hardware")
    assert.ok(fake.body.nodes.every((n: { uuid: string }) => n.uuid !== ipmi.uuid))
    const enrolled = await call("GET", "/v1/nodes/detail?provision_state=enroll")
    assert.ok(enrolled.body.nodes.length > 0)
    assert.ok(enrolled.body.nodes.every((n: { provision_state: string }) => n.provision_state === "enroll"))
    assert.ok("driver_info" in enrolled.body.nodes[0])
    const fields = await call("GET", `/v1/nodes/${ipmi.uuid}?fields=uuid,driver`)
    assert.deepEqual(Object.keys(fields.body).sort(), ["driver", "links", "uuid"])
    for (const bad of ["?fields=bogus", "?provision_state=sleeping", "?maintenance=perhaps", "?limit=-1", "?marker=xyz", "?driver=nope"]) {
      const r = await call("GET", `/v1/nodes${bad}`)
      assert.equal(r.status, 400, bad)
      errorOf(r)
    }
  })

  test("PATCH adds, replaces and removes the fields a user may change, and refuses the rest", async () => {
    const node = await enroll({ driver: "ipmi", name: "patch-me", driver_info: { ipmi_address: "127.0.0.1", ipmi_password: "pw" }, extra: { a: "1" } })
    const r = await call("PATCH", `/v1/nodes/patch-me`, [
      { op: "add", path: "/driver_info/ipmi_username", value: "admin" },
      { op: "replace", path: "/name", value: "patched" },
      { op: "remove", path: "/extra/a" },
      { op: "add", path: "/properties/capabilities", value: { boot_mode: "bios" } },
      { op: "add", path: "/properties/capabilities/disk_label", value: "gpt" },
    ])
    assert.equal(r.status, 200, r.text)
    assert.equal(r.body.name, "patched")
    assert.equal(r.body.driver_info.ipmi_username, "admin")
    assert.equal(r.body.driver_info.ipmi_password, "******")
    assert.deepEqual(r.body.extra, {})
    assert.deepEqual(r.body.properties.capabilities, { boot_mode: "bios", disk_label: "gpt" })
    const shown = await call("GET", `/v1/nodes/${node.uuid}`)
    assert.equal(shown.body.name, "patched")
    const refused: Array<[unknown, RegExp]> = [
      [[{ op: "remove", path: "/extra/missing" }], /non-existent/],
      [[{ op: "replace", path: "/provision_state", value: "active" }], /Only the following can be updated/],
      [[{ op: "add", path: "/uuid", value: node.uuid }], /Only the following can be updated/],
      [[{ op: "move", from: "/name", path: "/extra/n" }], /operation/],
      [[{ op: "add", path: "/driver_info/nested", value: { a: 1 } }], /driver_info/],
      [[{ op: "add", path: "/name" }], /needs a value/],
      [[{ op: "replace", path: "/driver", value: "nope" }], /driver/],
      [[{ op: "remove", path: "/driver" }], /driver/],
      [{ op: "add", path: "/name", value: "x" }, /array/],
      [[{ op: "add", path: "name", value: "x" }], /start with/],
    ]
    for (const [body, message] of refused) {
      const bad = await call("PATCH", `/v1/nodes/${node.uuid}`, body)
      assert.equal(bad.status, 400, JSON.stringify(body))
      assert.match(messageOf(bad), message)
    }
    const unchanged = await call("GET", `/v1/nodes/${node.uuid}`)
    assert.deepEqual(unchanged.body, { ...shown.body })
  })

  test("an unknown node is a 404 in the controller error format", async () => {
    const r = await call("GET", "/v1/nodes/no-such-node")
    assert.equal(r.status, 404)
    assert.match(messageOf(r), /no-such-node could not be found/)
  })

  test("unknown paths are 404 and wrong methods 405, in the routing error format", async () => {
    const r = await call("GET", "/v1/chassis")
    assert.equal(r.status, 404)
    assert.equal(errorOf(r)["code"], 404)
    const m = await call("DELETE", "/v1/nodes")
    assert.equal(m.status, 405)
    assert.equal(errorOf(m)["code"], 405)
    assert.match(m.headers.get("allow") ?? "", /GET/)
  })

  test("DELETE removes the node and its ports", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "to-delete" })
    const port = await call("POST", "/v1/ports", { address: "52:54:00:de:1e:7e", node_uuid: node.uuid })
    assert.equal(port.status, 201)
    const r = await call("DELETE", `/v1/nodes/to-delete`)
    assert.equal(r.status, 204)
    assert.equal(r.text, "")
    assert.equal((await call("GET", `/v1/nodes/${node.uuid}`)).status, 404)
    assert.equal((await call("GET", `/v1/ports/${port.body.uuid}`)).status, 404)
    assert.equal((await call("GET", "/v1/ports?address=52:54:00:de:1e:7e")).body.ports.length, 0)
  })
})

describe("ports", () => {
  test("create, list by node and address, show, delete", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "port-owner" })
    const r = await call("POST", "/v1/ports", { address: "52-54-00-AA-00-01", node_uuid: node.uuid })
    assert.equal(r.status, 201, r.text)
    assert.equal(r.body.address, "52:54:00:aa:00:01")
    assert.equal(r.body.node_uuid, node.uuid)
    assert.equal(r.headers.get("location"), `${svc.url}/v1/ports/${r.body.uuid}`)
    const byNode = await call("GET", `/v1/ports?node=port-owner`)
    assert.deepEqual(byNode.body.ports.map((p: { uuid: string }) => p.uuid), [r.body.uuid])
    const byAddress = await call("GET", `/v1/ports/detail?address=52:54:00:aa:00:01`)
    assert.equal(byAddress.body.ports[0].node_uuid, node.uuid)
    const viaNode = await call("GET", `/v1/nodes/${node.uuid}/ports`)
    assert.equal(viaNode.body.ports[0].uuid, r.body.uuid)
    assert.equal((await call("GET", `/v1/ports/${r.body.uuid}`)).body.address, "52:54:00:aa:00:01")
    assert.equal((await call("DELETE", `/v1/ports/${r.body.uuid}`)).status, 204)
    assert.equal((await call("GET", `/v1/ports/${r.body.uuid}`)).status, 404)
  })

  test("a duplicate MAC is a 409; a node name, a bad MAC or extra fields are 400s", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "port-dup" })
    assert.equal((await call("POST", "/v1/ports", { address: "52:54:00:aa:00:02", node_uuid: node.uuid })).status, 201)
    const dup = await call("POST", "/v1/ports", { address: "52:54:00:AA:00:02", node_uuid: node.uuid })
    assert.equal(dup.status, 409)
    assert.equal(messageOf(dup), "A port with MAC address 52:54:00:aa:00:02 already exists.")
    const cases: Array<[unknown, RegExp]> = [
      [{ address: "52:54:00:aa:00:03", node_uuid: "port-dup" }, /Expected a UUID/],
      [{ address: "52:54:00:aa:00", node_uuid: node.uuid }, /not a valid MAC/],
      [{ address: "52:54:00:aa:00:04", node_uuid: node.uuid, colour: "red" }, /colour/],
      [{ address: 42, node_uuid: node.uuid }, /string/],
    ]
    for (const [body, message] of cases) {
      const r = await call("POST", "/v1/ports", body)
      assert.equal(r.status, 400, JSON.stringify(body))
      assert.match(messageOf(r), message)
    }
    const missing = await call("POST", "/v1/ports", { address: "52:54:00:aa:00:05", node_uuid: "00000000-0000-4000-8000-000000000000" })
    assert.equal(missing.status, 404)
  })
})

describe("states", () => {
  test("provision changes answer 202 with Location; invalid transitions name the node by UUID", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "stateful" })
    const r = await call("PUT", "/v1/nodes/stateful/states/provision", { target: "manage" })
    assert.equal(r.status, 202, r.text)
    assert.equal(r.text, "")
    assert.equal(r.headers.get("location"), `${svc.url}/v1/nodes/stateful/states`)
    const states = await call("GET", `/v1/nodes/${node.uuid}/states`)
    assert.equal(states.status, 200)
    assert.ok(["verifying", "manageable", "enroll"].includes(states.body.provision_state))
    const other = await enroll({ driver: "fake-hardware", name: "still-enroll" })
    const bad = await call("PUT", "/v1/nodes/still-enroll/states/provision", { target: "provide" })
    assert.equal(bad.status, 400)
    assert.equal(messageOf(bad),
      `The requested action "provide" can not be performed on node "${other.uuid}" while it is in state "enroll".`)
    for (const body of [{ target: "fly" }, {}, { target: "rescue" }, { target: "clean" }, { target: "active", configdrive: "abc" }, { target: "manage", extra: 1 }]) {
      const refused = await call("PUT", "/v1/nodes/still-enroll/states/provision", body)
      assert.equal(refused.status, 400, JSON.stringify(body))
      errorOf(refused)
    }
  })

  test("power targets are checked; maintenance is set with a reason and cleared", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "maint" })
    const badPower = await call("PUT", `/v1/nodes/${node.uuid}/states/power`, { target: "sideways" })
    assert.equal(badPower.status, 400)
    const set = await call("PUT", `/v1/nodes/maint/maintenance`, { reason: "disk swap" })
    assert.equal(set.status, 202, set.text)
    const shown = await call("GET", `/v1/nodes/${node.uuid}`)
    assert.equal(shown.body.maintenance, true)
    assert.equal(shown.body.maintenance_reason, "disk swap")
    const inMaintenance = await call("GET", "/v1/nodes?maintenance=true")
    assert.ok(inMaintenance.body.nodes.some((n: { uuid: string }) => n.uuid === node.uuid))
    assert.equal((await call("DELETE", `/v1/nodes/maint/maintenance`)).status, 202)
    assert.equal((await call("GET", `/v1/nodes/${node.uuid}`)).body.maintenance, false)
  })

  test("validate reports per interface what an ipmi node still lacks", async () => {
    const node = await enroll({ driver: "ipmi", name: "validate-me" })
    const before = await call("GET", `/v1/nodes/${node.uuid}/validate`)
    assert.equal(before.status, 200)
    assert.equal(before.body.power.result, false)
    assert.match(before.body.power.reason, /ipmi_address/)
    assert.equal(before.body.boot.result, false)
    assert.equal(before.body.deploy.result, false)
    await call("PATCH", `/v1/nodes/${node.uuid}`, [
      { op: "add", path: "/driver_info/ipmi_address", value: "127.0.0.1" },
      { op: "add", path: "/driver_info/deploy_kernel", value: "file:///k" },
      { op: "add", path: "/driver_info/deploy_ramdisk", value: "file:///r" },
      { op: "add", path: "/instance_info/image_source", value: "file:///img.qcow2" },
    ])
    await call("POST", "/v1/ports", { address: "52:54:00:aa:00:10", node_uuid: node.uuid })
    const after = await call("GET", `/v1/nodes/${node.uuid}/validate`)
    for (const iface of ["power", "management", "boot", "deploy"]) assert.equal(after.body[iface].result, true, iface)
  })
})

describe("history", () => {
  test("every event is listed, pages follow markers, one entry is fetched by its uuid", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "storied" })
    await call("POST", "/v1/ports", { address: "52:54:00:aa:00:20", node_uuid: node.uuid })
    await call("PATCH", `/v1/nodes/${node.uuid}`, [{ op: "add", path: "/extra/rack", value: "r1" }])
    await call("PUT", `/v1/nodes/${node.uuid}/maintenance`, { reason: "check" })
    const events = (await readEvents(svc.db)).filter((e) => e.streamId.endsWith(node.uuid))
    const all = await call("GET", `/v1/nodes/storied/history`)
    assert.equal(all.status, 200)
    assert.equal(all.body.history.length, events.length)
    assert.deepEqual(all.body.history.map((h: { type: string }) => h.type), events.map((e) => e.type))
    const first = all.body.history[0]
    assert.equal(first.severity, "INFO")
    assert.equal(first.actor, "user:noauth")
    assert.match(first.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    assert.equal(typeof first.created_at, "string")
    assert.ok(Array.isArray(first.links))
    const paged: Array<string> = []
    let path: string | undefined = `/v1/nodes/${node.uuid}/history?limit=1`
    while (path !== undefined) {
      const r = await call("GET", path)
      paged.push(...r.body.history.map((h: { uuid: string }) => h.uuid))
      path = r.body.next === undefined ? undefined : new URL(r.body.next).pathname + new URL(r.body.next).search
      assert.ok(paged.length <= events.length + 1)
    }
    assert.deepEqual(paged, all.body.history.map((h: { uuid: string }) => h.uuid))
    const one = await call("GET", `/v1/nodes/${node.uuid}/history/${all.body.history[2].uuid}`)
    assert.equal(one.status, 200)
    assert.equal(one.body.type, events[2]!.type)
    assert.equal(one.body.user, "user:noauth")
    const detail = await call("GET", `/v1/nodes/${node.uuid}/history/detail`)
    assert.equal(detail.body.history[0].event_type, "Enrolled")
    const other = await enroll({ driver: "fake-hardware", name: "storied-2" })
    assert.equal((await call("GET", `/v1/nodes/${other.uuid}/history/${first.uuid}`)).status, 404)
    assert.equal((await call("GET", `/v1/nodes/${node.uuid}/history/nonsense`)).status, 404)
  })

  test("?at= shows the node as it was then", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "time-travel", extra: { v: "1" } })
    const between = new Date(Date.parse(node.created_at as string) + 1).toISOString()
    await new Promise((r) => setTimeout(r, 20))
    await call("PATCH", `/v1/nodes/${node.uuid}`, [{ op: "replace", path: "/extra/v", value: "2" }])
    const then = await call("GET", `/v1/nodes/${node.uuid}/history?at=${encodeURIComponent(between)}`)
    assert.equal(then.status, 200, then.text)
    assert.equal(then.body.node.extra.v, "1")
    const now = await call("GET", `/v1/nodes/${node.uuid}/history?at=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)
    assert.equal(now.body.node.extra.v, "2")
    const before = await call("GET", `/v1/nodes/${node.uuid}/history?at=2000-01-01T00:00:00Z`)
    assert.equal(before.status, 404)
    const bad = await call("GET", `/v1/nodes/${node.uuid}/history?at=yesterday`)
    assert.equal(bad.status, 400)
  })
})

describe("ramdisk endpoints", () => {
  test("lookup of a node that waits for no ramdisk answers as for an unknown MAC; malformed MACs are 400", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "lookup-me" })
    await call("POST", "/v1/ports", { address: "52:54:00:aa:00:30", node_uuid: node.uuid })
    const idle = await call("GET", "/v1/lookup?addresses=52:54:00:AA:00:30")
    const unknown = await call("GET", "/v1/lookup?addresses=52:54:00:ff:ff:fe")
    assert.equal(idle.status, 404)
    assert.equal(unknown.status, 404)
    assert.equal(messageOf(idle).replace("52:54:00:aa:00:30", "MAC"), messageOf(unknown).replace("52:54:00:ff:ff:fe", "MAC"))
    assert.equal((await call("GET", "/v1/lookup?addresses=zz")).status, 400)
    assert.equal((await call("GET", "/v1/lookup")).status, 400)
  })

  test("pass_deploy_info checks its body, and a node not waiting for it refuses", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "callback" })
    const methods = await call("GET", `/v1/nodes/${node.uuid}/vendor_passthru/methods`)
    assert.deepEqual(methods.body.pass_deploy_info.http_methods, ["POST"])
    const good = { address: "127.0.0.1", key: "k", iqn: "iqn.2026-11.io.ironledger:node" }
    for (const body of [{}, { ...good, address: "not-an-ip" }, { ...good, iqn: "nope" }, { ...good, port: "http" }, { ...good, unknown: 1 }]) {
      const r = await call("POST", `/v1/nodes/${node.uuid}/vendor_passthru/pass_deploy_info`, body)
      assert.equal(r.status, 400, JSON.stringify(body))
      errorOf(r)
    }
    // A node that waits for no ramdisk answers exactly as one that does not exist.
    const notWaiting = await call("POST", `/v1/nodes/${node.uuid}/vendor_passthru/pass_deploy_info`, good)
    const missing = "00000000-0000-4000-8000-00000000dead"
    const absent = await call("POST", `/v1/nodes/${missing}/vendor_passthru/pass_deploy_info`, good)
    assert.equal(notWaiting.status, 404)
    assert.equal(absent.status, 404)
    assert.equal(messageOf(notWaiting).replace(node.uuid, "X"), messageOf(absent).replace(missing, "X"))
    const unknown = await call("POST", `/v1/nodes/${node.uuid}/vendor_passthru/reboot_now`, {})
    assert.equal(unknown.status, 400)
    // Ironic's own form names the method in the query: the same methods, the same answers.
    const byQuery = await call("POST", `/v1/nodes/${node.uuid}/vendor_passthru?method=pass_deploy_info`, good)
    assert.equal(byQuery.status, 404)
    assert.equal(messageOf(byQuery), messageOf(notWaiting))
    assert.equal((await call("POST", `/v1/nodes/${node.uuid}/vendor_passthru?method=__proto__`, good)).status, 400)
    assert.equal((await call("POST", `/v1/nodes/${node.uuid}/vendor_passthru`, good)).status, 400)
    // No hardware type has driver-level vendor methods: listed empty, a call refused.
    assert.deepEqual((await call("GET", "/v1/drivers/fake-hardware/vendor_passthru/methods")).body, {})
    assert.equal((await call("GET", "/v1/drivers/no-such-driver/vendor_passthru/methods")).status, 404)
    assert.match(messageOf(await call("POST", "/v1/drivers/fake-hardware/vendor_passthru?method=x", {})), /has no vendor methods/)
  })

  test("heartbeat needs a callback_url; an idle node answers as an unknown one", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "beats" })
    const idle = await call("POST", `/v1/heartbeat/beats`, { callback_url: "http://127.0.0.1:9999" })
    const unknown = await call("POST", `/v1/heartbeat/no-such-node`, { callback_url: "http://127.0.0.1:9999" })
    assert.equal(idle.status, 404)
    assert.equal(unknown.status, 404)
    assert.equal(messageOf(idle).replace("beats", "X"), messageOf(unknown).replace("no-such-node", "X"))
    assert.equal((await call("POST", `/v1/heartbeat/${node.uuid}`, {})).status, 400)
  })
})

describe("a deploy on sim, through the API", () => {
  let slow: TestService
  before(async () => {
    // The simulated ramdisk calls back after 1.5 s, leaving time to post a forged call-back first.
    slow = await startTestService({ hardware: simulatedHardware({ callbackDelayMs: 1500 }) })
  })
  after(async () => { await slow?.close() })

  test("a forged call-back is refused, the ramdisk's own one completes the deploy, history times each step", { timeout: 60_000 }, async () => {
    const c = client(slow.url)
    const settle = (state: string) => settleNode(c, "dep-1", state, 15_000)
    const node = (await c("POST", "/v1/nodes", { driver: "sim", name: "dep-1" })).body
    await c("POST", "/v1/ports", { address: "52:54:00:dd:00:01", node_uuid: node.uuid })
    assert.equal((await c("PUT", "/v1/nodes/dep-1/states/provision", { target: "manage" })).status, 202)
    await settle("manageable")
    assert.equal((await c("PUT", "/v1/nodes/dep-1/states/provision", { target: "provide" })).status, 202)
    await settle("available")
    assert.equal((await c("PUT", "/v1/nodes/dep-1/states/provision", { target: "active" })).status, 202)
    for (let i = 0; i < 100 && (await c("GET", "/v1/nodes/dep-1")).body.provision_state !== "wait call-back"; i++) {
      await new Promise((r) => setTimeout(r, 20))
    }
    // While it waits for its ramdisk, the ramdisk's endpoints find it (no token needed).
    const ramdisk = client(slow.url, {})
    const found = await ramdisk("GET", "/v1/lookup?addresses=52:54:00:dd:00:01")
    assert.equal(found.status, 200, found.text)
    assert.equal(found.body.node.uuid, node.uuid)
    assert.equal((await ramdisk("POST", `/v1/heartbeat/${node.uuid}`, { callback_url: "http://127.0.0.1:9999" })).status, 202)
    const forged = await client(slow.url, {})("POST", `/v1/nodes/${node.uuid}/vendor_passthru/pass_deploy_info`,
      { address: "127.0.0.1", key: "not-the-key", iqn: `iqn.2026-11.io.ironledger:${node.uuid}` })
    assert.equal(forged.status, 400)
    assert.match(messageOf(forged), /deploy key does not match/)
    const active = await settle("active")
    assert.equal(active.power_state, "power on")
    const history = (await c("GET", `/v1/nodes/${node.uuid}/history`)).body.history as Array<Record<string, unknown>>
    const types = history.map((h) => h["type"])
    assert.ok(types.indexOf("CallbackRejected") < types.indexOf("IscsiReady"))
    const rejected = history.find((h) => h["type"] === "CallbackRejected")!
    assert.equal(rejected["severity"], "ERROR")
    assert.equal(rejected["actor"], "ramdisk")
    const powered = history.find((h) => h["type"] === "PowerStateChanged")!
    assert.equal(typeof powered["duration_ms"], "number")
    assert.equal(history.find((h) => h["type"] === "IscsiReady")!["actor"], "ramdisk")
  })
})
