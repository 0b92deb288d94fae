// Node fields and PATCH paths as Ironic has them up to API 1.78, list filters, traits, and the
// PATCH paths that must never reach an object's prototype; over real HTTP against the service.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { client, messageOf, readEvents, settleNode, startTestService, type TestService } from "./http-harness.ts"

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

const patch = (ref: string, ops: unknown, version = "1.78") =>
  call("PATCH", `/v1/nodes/${ref}`, ops, { "X-OpenStack-Ironic-API-Version": version })

/** Drives a fake-hardware node to active. */
const deployed = async (name: string) => {
  await enroll({ driver: "fake-hardware", name })
  for (const [target, state] of [["manage", "manageable"], ["provide", "available"], ["active", "active"]] as const) {
    assert.equal((await call("PUT", `/v1/nodes/${name}/states/provision`, { target })).status, 202)
    await settleNode(call, name, state)
  }
}

describe("PATCH paths", () => {
  test("prototype names and empty segments are refused anywhere in a path, and as keys of a value", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "proto", extra: { keep: 1 } })
    const paths = [
      "/extra/__proto__", "/extra/__proto__/polluted", "/properties/constructor", "/instance_info/prototype",
      "/__proto__", "/constructor/prototype", "/extra//x", "/extra/", "//", "/extra/a~1b/__proto__",
    ]
    for (const path of paths) {
      const r = await patch(node.uuid, [{ op: "add", path, value: 1 }])
      assert.equal(r.status, 400, path)
      assert.match(messageOf(r), /empty segments|can not be patched/, path)
    }
    const value = await call("PATCH", `/v1/nodes/${node.uuid}`, `[{"op":"add","path":"/extra/x","value":{"__proto__":{"polluted":1}}}]`)
    assert.equal(value.status, 400)
    assert.match(messageOf(value), /__proto__/)
    const body = await call("POST", "/v1/nodes", `{"driver":"fake-hardware","extra":{"__proto__":{"a":1}}}`)
    assert.equal(body.status, 400)
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined)
    assert.deepEqual((await call("GET", `/v1/nodes/${node.uuid}`)).body.extra, { keep: 1 })
  })

  test("every field Ironic allows is set and unset; its version gates it with a 406", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "fields", description: "rack 4", owner: "p1" })
    assert.equal(node.description, "rack 4")
    const instance = "5a0bd9e9-d7a1-4c86-8a65-3c5b7e2d1f10"
    const set = await patch(node.uuid, [
      { op: "add", path: "/instance_uuid", value: instance },
      { op: "replace", path: "/description", value: "rack 5" },
      { op: "add", path: "/owner", value: "project-a" },
      { op: "add", path: "/lessee", value: "project-b" },
      { op: "add", path: "/resource_class", value: "baremetal.large" },
      { op: "add", path: "/conductor_group", value: "Rack-5" },
      { op: "add", path: "/network_interface", value: "noop" },
      { op: "add", path: "/automated_clean", value: false },
      { op: "add", path: "/network_data", value: { links: [] } },
      { op: "add", path: "/retired", value: true },
      { op: "add", path: "/retired_reason", value: "old" },
      { op: "remove", path: "/chassis_uuid" },
    ])
    assert.equal(set.status, 200, set.text)
    const b = set.body
    assert.deepEqual(
      [b.instance_uuid, b.description, b.owner, b.lessee, b.resource_class, b.conductor_group, b.network_interface, b.automated_clean, b.retired, b.retired_reason],
      [instance, "rack 5", "project-a", "project-b", "baremetal.large", "rack-5", "noop", false, true, "old"],
    )
    assert.deepEqual(b.network_data, { links: [] })
    const other = "0b5f6d7e-1111-4222-8333-944455556666"
    const taken = await patch(node.uuid, [{ op: "replace", path: "/instance_uuid", value: other }])
    assert.equal(taken.status, 409)
    assert.match(messageOf(taken), /associated with instance/)
    const unset = await patch(node.uuid, ["instance_uuid", "description", "owner", "lessee", "resource_class", "conductor_group", "retired", "network_data"]
      .map((f) => ({ op: "remove", path: `/${f}` })))
    assert.equal(unset.status, 200, unset.text)
    const u = unset.body
    assert.deepEqual([u.instance_uuid, u.description, u.owner, u.lessee, u.resource_class, u.conductor_group, u.retired, u.retired_reason],
      [null, null, null, null, null, "", false, null])
    // Each field from the version that introduced it; firmware_interface is newer than 1.78.
    for (const [path, version] of [["/owner", "1.49"], ["/lessee", "1.64"], ["/resource_class", "1.20"], ["/description", "1.50"], ["/protected", "1.47"], ["/firmware_interface", "1.78"]]) {
      const r = await patch(node.uuid, [{ op: "add", path, value: path === "/protected" ? true : "x" }], version)
      assert.equal(r.status, 406, `${path} at ${version}: ${r.text}`)
    }
    const traits = await patch(node.uuid, [{ op: "add", path: "/traits", value: ["CUSTOM_A"] }])
    assert.equal(traits.status, 400)
    assert.match(messageOf(traits), /traits API/)
    const chassis = await patch(node.uuid, [{ op: "add", path: "/chassis_uuid", value: other }])
    assert.equal(chassis.status, 400)
  })

  test("PATCH /maintenance sets and clears maintenance as PUT .../maintenance does", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "maint-patch" })
    const on = await patch(node.uuid, [{ op: "replace", path: "/maintenance", value: true }])
    assert.equal(on.status, 200, on.text)
    assert.equal(on.body.maintenance, true)
    const off = await patch(node.uuid, [{ op: "replace", path: "/maintenance", value: false }])
    assert.equal(off.body.maintenance, false)
    assert.equal((await patch(node.uuid, [{ op: "replace", path: "/maintenance", value: "perhaps" }])).status, 400)
    const types = (await readEvents(svc.db)).filter((e) => e.streamId.endsWith(node.uuid)).map((e) => e.type)
    assert.deepEqual(types.filter((t) => t.startsWith("Maintenance")), ["MaintenanceSet", "MaintenanceCleared"])
  })

  test("protected is for active nodes and refuses undeploy and rebuild; preserve_ephemeral applies to one rebuild", async () => {
    await deployed("guarded")
    const early = await enroll({ driver: "fake-hardware", name: "not-active" })
    const notActive = await patch(early.uuid, [{ op: "add", path: "/protected", value: true }])
    assert.equal(notActive.status, 400)
    assert.match(messageOf(notActive), /active/)
    const on = await patch("guarded", [{ op: "add", path: "/protected", value: true }, { op: "add", path: "/protected_reason", value: "prod db" }])
    assert.equal(on.status, 200, on.text)
    assert.equal(on.body.protected_reason, "prod db")
    for (const target of ["deleted", "rebuild"]) {
      const r = await call("PUT", "/v1/nodes/guarded/states/provision", { target })
      assert.equal(r.status, 400, target)
      assert.match(messageOf(r), /protected/)
    }
    const off = await patch("guarded", [{ op: "replace", path: "/protected", value: false }])
    assert.equal(off.body.protected_reason, null)
    // The flag a rebuild asked for is gone from instance_info once that rebuild is requested.
    assert.equal((await patch("guarded", [{ op: "add", path: "/instance_info/preserve_ephemeral", value: true }])).status, 200)
    assert.equal((await call("PUT", "/v1/nodes/guarded/states/provision", { target: "rebuild" })).status, 202)
    const after1 = await settleNode(call, "guarded", "active")
    assert.equal(after1.instance_info.preserve_ephemeral, undefined)
    assert.equal((await call("PUT", "/v1/nodes/guarded/states/provision", { target: "rebuild" })).status, 202)
    await settleNode(call, "guarded", "active")
    const rebuilds = (await readEvents(svc.db)).filter((e) => e.type === "DeployRequested" && (e.data as { rebuild: boolean }).rebuild)
    assert.deepEqual(rebuilds.map((e) => (e.data as { preserveEphemeral: boolean }).preserveEphemeral), [true, false])
  })
})

describe("list filters", () => {
  test("every filter Ironic has at 1.78 selects; unknown filters are 400s and newer ones 406s", async () => {
    const a = await enroll({ driver: "fake-hardware", name: "flt-a", resource_class: "gpu", owner: "o1", lessee: "l1", conductor_group: "g1", description: "has a GPU card" })
    const b = await enroll({ driver: "fake-hardware", name: "flt-b", resource_class: "cpu", owner: "o2" })
    const instance = "7c4e0a52-3b1f-4e8a-9d2c-1f0e9a8b7c6d"
    assert.equal((await patch(b.uuid, [{ op: "add", path: "/instance_uuid", value: instance }])).status, 200)
    const names = async (query: string) => {
      const r = await call("GET", `/v1/nodes?${query}`)
      assert.equal(r.status, 200, `${query}: ${r.text}`)
      return (r.body.nodes as Array<{ name: string }>).map((n) => n.name).filter((n) => n.startsWith("flt-")).sort()
    }
    assert.deepEqual(await names(`instance_uuid=${instance}`), ["flt-b"])
    assert.deepEqual(await names("associated=true"), ["flt-b"])
    assert.deepEqual(await names("associated=false"), ["flt-a"])
    assert.deepEqual(await names("resource_class=gpu"), ["flt-a"])
    assert.deepEqual(await names("owner=o2"), ["flt-b"])
    assert.deepEqual(await names("lessee=l1"), ["flt-a"])
    assert.deepEqual(await names("conductor_group=G1"), ["flt-a"])
    assert.deepEqual(await names("description_contains=GPU"), ["flt-a"])
    assert.deepEqual(await names("provision_state=enroll&driver=fake-hardware&maintenance=false"), ["flt-a", "flt-b"])
    assert.deepEqual(await names("retired=false"), ["flt-a", "flt-b"])
    assert.deepEqual(await names("retired=true"), [])
    assert.deepEqual(await names("fault=power%20failure"), [])
    assert.deepEqual(await names("conductor=ironledger"), ["flt-a", "flt-b"])
    assert.deepEqual((await call("GET", `/v1/nodes?fields=uuid,owner&owner=o1`)).body.nodes.map((n: Record<string, unknown>) => Object.keys(n).sort()), [["links", "owner", "uuid"]])
    for (const bad of ["bogus_filter=1", "instance_uuid=nope", "retired=maybe", "fault=broken", "sort_key=name"]) {
      const r = await call("GET", `/v1/nodes?${bad}`)
      assert.equal(r.status, 400, bad)
    }
    for (const [query, version] of [["owner=o1", "1.49"], ["lessee=l1", "1.64"], ["resource_class=gpu", "1.20"], ["fields=uuid", "1.7"], ["retired=true", "1.60"]]) {
      const r = await call("GET", `/v1/nodes?${query}`, undefined, { "X-OpenStack-Ironic-API-Version": version })
      assert.equal(r.status, 406, `${query} at ${version}`)
    }
    void a
  })
})

describe("traits", () => {
  test("set, add, list, remove one and all; invalid names and PUT with a body are 400s", async () => {
    const node = await enroll({ driver: "fake-hardware", name: "traity" })
    const path = `/v1/nodes/${node.uuid}/traits`
    assert.equal((await call("PUT", path, { traits: ["CUSTOM_B", "HW_CPU_X86_AVX2"] })).status, 204)
    assert.equal((await call("PUT", `${path}/CUSTOM_A`)).status, 204)
    assert.deepEqual((await call("GET", path)).body, { traits: ["CUSTOM_A", "CUSTOM_B", "HW_CPU_X86_AVX2"] })
    assert.deepEqual((await call("GET", `/v1/nodes/${node.uuid}`)).body.traits, ["CUSTOM_A", "CUSTOM_B", "HW_CPU_X86_AVX2"])
    assert.equal((await call("DELETE", `${path}/CUSTOM_B`)).status, 204)
    assert.equal((await call("DELETE", `${path}/CUSTOM_B`)).status, 404)
    for (const [method, p, body] of [["PUT", `${path}/lower_case`, undefined], ["PUT", path, { traits: ["ok_not"] }], ["PUT", path, ["CUSTOM_A"]], ["PUT", `${path}/CUSTOM_C`, { traits: [] }]] as const) {
      assert.equal((await call(method, p, body)).status, 400, `${p} ${JSON.stringify(body)}`)
    }
    assert.equal((await call("GET", path, undefined, { "X-OpenStack-Ironic-API-Version": "1.36" })).status, 404)
    assert.equal((await call("DELETE", path)).status, 204)
    assert.deepEqual((await call("GET", path)).body, { traits: [] })
  })
})
