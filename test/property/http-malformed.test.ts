// Thousands of generated malformed requests against the running API: bad JSON, wrong types,
// unknown fields, huge bodies, bad MACs and UUIDs, JSON PATCH to forbidden paths, bad version
// headers, refused transitions, paths through an object's prototype, bad port PATCHes, VIFs,
// traits, list filters and allocations, port groups, volume connectors and targets, inject NMI,
// conductors and reset_interfaces. Every answer must be a 4xx in Ironic's error format, and the
// event log must be exactly as it was before (read through a second connection to the SQLite file).
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { parseMac, parseUuid } from "../../src/domain/index.ts"
import * as E from "fp-ts/lib/Either.js"
import { client, errorOf, readEvents, startTestService, type TestService } from "../adapters/http-harness.ts"
import { NOTARY_STREAM } from "../../src/application/notary.ts"

let svc: TestService
let nodeUuid: string
let portUuid: string
let portgroupUuid: string
let connectorUuid: string
let targetUuid: string
const nodeName = "target-node"

before(async () => {
  svc = await startTestService()
  const call = client(svc.url)
  const node = await call("POST", "/v1/nodes", {
    driver: "fake-hardware", name: nodeName, extra: { present: "yes" }, driver_info: { ipmi_password: "pw" },
  })
  assert.equal(node.status, 201)
  nodeUuid = node.body.uuid
  const port = await call("POST", "/v1/ports", { address: "52:54:00:00:99:01", node_uuid: nodeUuid })
  assert.equal(port.status, 201)
  portUuid = port.body.uuid
  const group = await call("POST", "/v1/portgroups", { node_uuid: nodeUuid, name: "bond-m", address: "52:54:00:00:98:01" })
  assert.equal(group.status, 201)
  portgroupUuid = group.body.uuid
  const connector = await call("POST", "/v1/volume/connectors", { node_uuid: nodeUuid, type: "iqn", connector_id: "iqn.2030-01.org.example:m" })
  assert.equal(connector.status, 201)
  connectorUuid = connector.body.uuid
  const target = await call("POST", "/v1/volume/targets", { node_uuid: nodeUuid, volume_type: "iscsi", volume_id: "vol-m", boot_index: 0 })
  assert.equal(target.status, 201)
  targetUuid = target.body.uuid
})
after(async () => { await svc?.close() })

interface Malformed {
  readonly method: string
  readonly path: string
  /** Raw body text, sent as is. */
  readonly body?: string
  readonly headers?: Record<string, string>
}

const nodeRef = fc.constantFrom(() => nodeUuid, () => nodeName).map((f) => f())
const json = (v: unknown) => JSON.stringify(v)
const notJson = fc.string({ maxLength: 200 }).filter((s) => {
  try { JSON.parse(s); return false } catch { return s.length > 0 }
})
const anyJson = fc.jsonValue({ maxDepth: 3 })
const fieldName = fc.string({ minLength: 1, maxLength: 20 })

const knownNodeFields = new Set([
  "driver", "uuid", "name", "driver_info", "properties", "instance_info", "extra",
  "description", "owner", "lessee", "resource_class", "conductor_group", "network_data",
])

/** Bodies sent where JSON is expected, that are not JSON at all. */
const badJson = fc.record({
  target: fc.constantFrom(
    { method: "POST", path: () => "/v1/nodes" },
    { method: "POST", path: () => "/v1/ports" },
    { method: "PATCH", path: () => `/v1/nodes/${nodeUuid}` },
    { method: "PUT", path: () => `/v1/nodes/${nodeName}/states/provision` },
    { method: "PUT", path: () => `/v1/nodes/${nodeUuid}/states/power` },
    { method: "PUT", path: () => `/v1/nodes/${nodeUuid}/maintenance` },
    { method: "POST", path: () => `/v1/nodes/${nodeUuid}/vendor_passthru/pass_deploy_info` },
    { method: "POST", path: () => `/v1/heartbeat/${nodeUuid}` },
  ),
  text: notJson,
}).map(({ target, text }): Malformed => ({ method: target.method, path: target.path(), body: text }))

/** Node bodies with a wrong type, an unknown driver or an unknown field. */
const badNode = fc.oneof(
  anyJson.filter((d) => d !== "ipmi" && d !== "fake-hardware").map((driver) => ({ driver })),
  fc.record({ driver: fc.constant("fake-hardware"), name: anyJson.filter((n) => typeof n !== "string" && n !== null) }),
  fc.record({ driver: fc.constant("fake-hardware"), name: fc.string().filter((s) => !/^[A-Za-z0-9._~-]{1,255}$/.test(s)) }),
  fc.record({ driver: fc.constant("fake-hardware"), uuid: fc.string().filter((s) => E.isLeft(parseUuid(s))) }),
  fc.record({ driver: fc.constant("fake-hardware"), driver_info: anyJson.filter((v) => typeof v !== "object" || v === null || Array.isArray(v)) }),
  fc.record({ driver: fc.constant("fake-hardware"), properties: fc.oneof(fc.string(), fc.integer(), fc.array(anyJson)) }),
  fc.record({ driver: fc.constant("fake-hardware"), driver_info: fc.dictionary(fieldName, fc.array(anyJson), { minKeys: 1 }) }),
  fc.tuple(fieldName.filter((k) => !knownNodeFields.has(k)), anyJson)
    .map(([k, v]) => ({ driver: "fake-hardware", [k]: v })),
  anyJson.filter((v) => typeof v !== "object" || v === null || Array.isArray(v)),
).map((body): Malformed => ({ method: "POST", path: "/v1/nodes", body: json(body) }))

const badPort = fc.oneof(
  fc.string({ maxLength: 40 }).filter((s) => E.isLeft(parseMac(s))).map((address) => ({ address, node_uuid: nodeUuid })),
  fc.string({ maxLength: 40 }).filter((s) => E.isLeft(parseUuid(s))).map((ref) => ({ address: "52:54:00:00:99:02", node_uuid: ref })),
  fc.constant({ address: "52:54:00:00:99:01", node_uuid: "" }).map((b) => ({ ...b, node_uuid: nodeUuid })), // duplicate MAC
  fc.tuple(fieldName.filter((k) => !["address", "node_uuid", "pxe_enabled", "extra", "local_link_connection", "physical_network", "portgroup_uuid", "is_smartnic"].includes(k)), anyJson)
    .map(([k, v]) => ({ address: "52:54:00:00:99:03", node_uuid: nodeUuid, [k]: v })),
  anyJson.filter((v) => typeof v !== "object" || v === null || Array.isArray(v)),
).map((body): Malformed => ({ method: "POST", path: "/v1/ports", body: json(body) }))

const allowedHeads = new Set([
  "name", "driver", "driver_info", "properties", "instance_info", "extra", "network_data", "description", "owner",
  "lessee", "resource_class", "conductor_group", "instance_uuid", "chassis_uuid", "maintenance", "protected",
  "protected_reason", "retired", "retired_reason", "automated_clean",
  ...["bios", "boot", "console", "deploy", "firmware", "inspect", "management", "network", "power", "raid", "rescue", "storage", "vendor"].map((s) => `${s}_interface`),
])
const badPatch = fc.oneof(
  // A path outside what a user may change.
  fc.tuple(fc.constantFrom("add", "replace", "remove"), fc.string({ maxLength: 30 }).filter((s) => !allowedHeads.has(s.split("/")[0]!)), anyJson)
    .map(([op, p, value]) => [{ op, path: `/${p}`, value }]),
  // Removing or replacing a key that is not there.
  fc.tuple(fc.constantFrom("remove", "replace"), fieldName.filter((k) => k !== "present" && !k.includes("/") && !k.includes("~")))
    .map(([op, k]) => [{ op, path: `/extra/${k}`, value: 1 }]),
  // Operations that are not supported, and shapes that are not operations.
  fc.constantFrom("move", "copy", "test", "merge").map((op) => [{ op, from: "/extra/present", path: "/extra/x", value: 1 }]),
  anyJson.filter((v) => !Array.isArray(v) || v.length === 0).filter((v) => !Array.isArray(v)),
  fc.array(anyJson.filter((v) => typeof v !== "object" || v === null), { minLength: 1, maxLength: 3 }),
  // A valid change followed by an invalid one: nothing of the PATCH may be applied.
  fieldName.map((k) => [{ op: "add", path: "/extra/fine", value: k }, { op: "remove", path: "/extra/absent-key" }]),
).map((body): Malformed => ({ method: "PATCH", path: `/v1/nodes/${nodeUuid}`, body: json(body) }))

/** Paths through an object's prototype, or with empty segments, anywhere under any field, on nodes and ports. */
const prototypePath = fc.tuple(
  fc.constantFrom("extra", "properties", "instance_info", "driver_info", "network_data", "local_link_connection", "name", ""),
  fc.array(fc.constantFrom("a", "0", "-"), { maxLength: 2 }),
  fc.constantFrom("__proto__", "constructor", "prototype", ""),
  fc.array(fc.constantFrom("polluted", "x", ""), { maxLength: 2 }),
  fc.constantFrom("add", "replace", "remove"),
  fc.boolean(),
).map(([head, middle, bad, tail, op, onPort]): Malformed => ({
  method: "PATCH",
  path: onPort ? `/v1/ports/${portUuid}` : `/v1/nodes/${nodeUuid}`,
  body: json([{ op, path: `/${[head, ...middle, bad, ...tail].join("/")}`, value: { polluted: true } }]),
}))

/** Keys that reach the prototype inside a value (the raw text keeps "__proto__" an own key). */
const prototypeValue = fc.tuple(fc.constantFrom("__proto__", "constructor", "prototype"), fc.boolean())
  .map(([key, onPort]): Malformed => ({
    method: "PATCH",
    path: onPort ? `/v1/ports/${portUuid}` : `/v1/nodes/${nodeUuid}`,
    body: `[{"op":"add","path":"/extra/x","value":{"${key}":{"polluted":true}}}]`,
  }))

const portHeads = new Set(["address", "extra", "pxe_enabled", "local_link_connection", "physical_network", "portgroup_uuid", "is_smartnic"])
const badPortPatch = fc.oneof(
  fc.tuple(fc.constantFrom("add", "replace", "remove"), fc.string({ maxLength: 30 }).filter((s) => !portHeads.has(s.split("/")[0]!)), anyJson)
    .map(([op, p, value]) => [{ op, path: `/${p}`, value }]),
  fc.string({ maxLength: 30 }).filter((s) => E.isLeft(parseMac(s))).map((value) => [{ op: "replace", path: "/address", value }]),
  anyJson.filter((v) => typeof v !== "boolean" && !(typeof v === "string" && ["true", "1", "yes", "on", "y", "t", "false", "0", "no", "off", "n", "f"].includes(v.trim().toLowerCase())))
    .map((value) => [{ op: "replace", path: "/pxe_enabled", value }]),
  fc.tuple(fieldName.filter((k) => !["switch_id", "port_id", "switch_info", "network_type", "hostname"].includes(k) && !k.includes("/") && !k.includes("~")), anyJson)
    .map(([k, value]) => [{ op: "add", path: `/local_link_connection/${k}`, value }]),
  anyJson.filter((v) => v !== null && (typeof v !== "string" || v.length > 64)).map((value) => [{ op: "add", path: "/physical_network", value }]),
).map((body): Malformed => ({ method: "PATCH", path: `/v1/ports/${portUuid}`, body: json(body) }))

const badVifs = fc.oneof(
  anyJson.filter((v) => typeof v !== "object" || v === null || Array.isArray(v) || typeof (v as Record<string, unknown>)["id"] !== "string")
    .map((body): Malformed => ({ method: "POST", path: `/v1/nodes/${nodeUuid}/vifs`, body: json(body) })),
  fc.string({ maxLength: 40 }).filter((s) => !/^[A-Za-z0-9._:-]{1,255}$/.test(s))
    .map((id): Malformed => ({ method: "POST", path: `/v1/nodes/${nodeUuid}/vifs`, body: json({ id }) })),
  // Detaching a VIF that is not attached.
  fc.stringMatching(/^[a-z0-9-]{1,30}$/).map((id): Malformed => ({ method: "DELETE", path: `/v1/nodes/${nodeUuid}/vifs/${id}` })),
)

const badTraits = fc.oneof(
  fc.string({ maxLength: 30 }).filter((s) => !/^[A-Z][A-Z0-9_]{0,254}$/.test(s) && s !== "" && !s.includes("/"))
    .map((t): Malformed => ({ method: "PUT", path: `/v1/nodes/${nodeUuid}/traits/${encodeURIComponent(t)}` })),
  anyJson.filter((v) => !(typeof v === "object" && v !== null && !Array.isArray(v) && Array.isArray((v as Record<string, unknown>)["traits"]) &&
      ((v as Record<string, unknown>)["traits"] as Array<unknown>).every((t) => typeof t === "string" && /^[A-Z][A-Z0-9_]*$/.test(t)) && Object.keys(v).length === 1))
    .map((body): Malformed => ({ method: "PUT", path: `/v1/nodes/${nodeUuid}/traits`, body: json(body) })),
  fc.stringMatching(/^[A-Z][A-Z0-9_]{0,20}$/).map((t): Malformed => ({ method: "DELETE", path: `/v1/nodes/${nodeUuid}/traits/CUSTOM_ABSENT_${t}` })),
)

const allocationFields = new Set(["uuid", "name", "resource_class", "traits", "candidate_nodes", "extra", "owner", "node", "properties"])
const badAllocations = fc.oneof(
  fc.tuple(fieldName.filter((k) => !allocationFields.has(k)), anyJson).map(([k, v]) => ({ resource_class: "rc", [k]: v })),
  fc.array(fc.string({ maxLength: 20 }).filter((t) => !/^[A-Z][A-Z0-9_]{0,254}$/.test(t)), { minLength: 1, maxLength: 3 }).map((traits) => ({ resource_class: "rc", traits })),
  fc.stringMatching(/^[a-z0-9-]{1,20}$/).map((n) => ({ resource_class: "rc", candidate_nodes: [`absent-${n}`] })),
  anyJson.filter((v) => typeof v !== "string" && v !== null).map((rc) => ({ resource_class: rc })),
  fc.constant({}),
  anyJson.filter((v) => typeof v !== "object" || v === null || Array.isArray(v)),
).map((body): Malformed => ({ method: "POST", path: "/v1/allocations", body: json(body) }))
const absentAllocation = fc.stringMatching(/^[a-z0-9-]{1,20}$/)
  .map((n): Malformed => ({ method: "DELETE", path: `/v1/allocations/absent-${n}` }))

const notAnObject = anyJson.filter((v) => typeof v !== "object" || v === null || Array.isArray(v))
const portgroupFields = new Set(["node_uuid", "uuid", "address", "name", "mode", "properties", "standalone_ports_supported", "extra"])
const badPortgroups = fc.oneof(
  fc.tuple(fieldName.filter((k) => !portgroupFields.has(k)), anyJson).map(([k, v]) => ({ node_uuid: nodeUuid, [k]: v })),
  fc.string({ maxLength: 30 }).filter((s) => E.isLeft(parseMac(s))).map((address) => ({ node_uuid: nodeUuid, address })),
  anyJson.filter((n) => n !== null && (typeof n !== "string" || !/^[A-Za-z0-9._~-]{1,255}$/.test(n))).map((name) => ({ node_uuid: nodeUuid, name })),
  anyJson.filter((m) => m !== null && (typeof m !== "string" || m.length === 0)).map((mode) => ({ node_uuid: nodeUuid, mode })),
  fc.constant({ name: "bond-m" }).map((b) => ({ ...b, node_uuid: nodeUuid })), // a name already taken
  fc.constant({ address: "52:54:00:00:98:01" }).map((b) => ({ ...b, node_uuid: nodeUuid })), // a MAC already taken
  notAnObject,
).map((body): Malformed => ({ method: "POST", path: "/v1/portgroups", body: json(body) }))
const portgroupHeads = new Set(["address", "name", "extra", "standalone_ports_supported", "mode", "properties"])
const badPortgroupPatch = fc.oneof(
  fc.tuple(fc.constantFrom("add", "replace", "remove"), fc.string({ maxLength: 30 }).filter((s) => !portgroupHeads.has(s.split("/")[0]!)), anyJson)
    .map(([op, p, value]) => [{ op, path: `/${p}`, value }]),
  fc.constant([{ op: "remove", path: "/mode" }]),
  fc.string({ maxLength: 30 }).filter((s) => E.isLeft(parseMac(s))).map((value) => [{ op: "replace", path: "/address", value }]),
  fieldName.filter((k) => !k.includes("/") && !k.includes("~")).map((k) => [{ op: "remove", path: `/extra/${k}` }]),
  fc.tuple(fc.constantFrom("extra", "properties"), fc.constantFrom("__proto__", "constructor", "prototype", ""))
    .map(([head, bad]) => [{ op: "add", path: `/${head}/${bad}/polluted`, value: true }]),
).map((body): Malformed => ({ method: "PATCH", path: `/v1/portgroups/${portgroupUuid}`, body: json(body) }))
const badVolumes = fc.oneof(
  fc.string({ maxLength: 12 }).filter((t) => !["iqn", "ip", "mac", "wwnn", "wwpn", "port", "portgroup"].includes(t))
    .map((type): Malformed => ({ method: "POST", path: "/v1/volume/connectors", body: json({ node_uuid: nodeUuid, type, connector_id: "c" }) })),
  fc.constant(0).map((): Malformed => ({ method: "POST", path: "/v1/volume/connectors", body: json({ node_uuid: nodeUuid, type: "iqn", connector_id: "iqn.2030-01.org.example:m" }) })),
  fc.tuple(fieldName.filter((k) => !["node_uuid", "uuid", "type", "connector_id", "extra"].includes(k)), anyJson)
    .map(([k, v]): Malformed => ({ method: "POST", path: "/v1/volume/connectors", body: json({ node_uuid: nodeUuid, type: "ip", connector_id: "10.0.0.1", [k]: v }) })),
  anyJson.filter((b) => !(typeof b === "number" && Number.isInteger(b) && b > 0))
    .map((boot_index): Malformed => ({ method: "POST", path: "/v1/volume/targets", body: json({ node_uuid: nodeUuid, volume_type: "iscsi", volume_id: "v", boot_index }) })),
  notAnObject.map((body): Malformed => ({ method: "POST", path: "/v1/volume/targets", body: json(body) })),
  // The node's power is not off: every change to its connectors and targets is refused.
  fc.tuple(fc.constantFrom(() => `/v1/volume/connectors/${connectorUuid}`, () => `/v1/volume/targets/${targetUuid}`), fieldName.filter((k) => !k.includes("/") && !k.includes("~")))
    .map(([path, k]): Malformed => ({ method: "PATCH", path: path(), body: json([{ op: "add", path: `/extra/${k}`, value: 1 }]) })),
  fc.constantFrom("connectors", "targets").map((kind): Malformed => ({ method: "GET", path: `/v1/volume/${kind}?bogus=1` })),
)
const badManagement = fc.oneof(
  // fake-hardware has no NMI, as in Ironic; and the endpoint takes no arguments.
  fc.tuple(nodeRef, fc.oneof(fc.constant({}), fc.dictionary(fieldName, anyJson, { minKeys: 1 })))
    .map(([ref, body]): Malformed => ({ method: "PUT", path: `/v1/nodes/${ref}/management/inject_nmi`, body: json(body) })),
  fc.stringMatching(/^[a-z0-9-]{1,20}$/).map((h): Malformed => ({ method: "GET", path: `/v1/conductors/absent-${h}` })),
  fc.stringMatching(/^[a-z_]{1,12}$/).filter((k) => !["fields", "detail", "limit", "marker", "sort_key", "sort_dir"].includes(k))
    .map((k): Malformed => ({ method: "GET", path: `/v1/conductors?${k}=1` })),
  // reset_interfaces without a new driver, or with a value that is not a boolean.
  fc.oneof(fc.constant("true"), fc.stringMatching(/^[a-z]{2,8}$/).filter((v) => !["true", "yes", "on", "false", "no", "off"].includes(v)))
    .map((v): Malformed => ({ method: "PATCH", path: `/v1/nodes/${nodeUuid}?reset_interfaces=${v}`, body: json([{ op: "add", path: "/extra/x", value: 1 }]) })),
)

const knownFilters = new Set(["instance_uuid", "associated", "maintenance", "chassis_uuid", "limit", "marker", "fields", "provision_state",
  "driver", "resource_class", "detail", "fault", "conductor_group", "conductor", "owner", "description_contains", "retired", "lessee"])
const badFilters = fc.tuple(fc.stringMatching(/^[a-z_]{1,20}$/).filter((k) => !knownFilters.has(k)), fc.stringMatching(/^[a-z0-9]{0,10}$/))
  .map(([k, v]): Malformed => ({ method: "GET", path: `/v1/nodes?${k}=${v}` }))

const provisionTargets = new Set(["manage", "provide", "active", "deleted", "rebuild", "abort", "inspect", "clean", "rescue", "unrescue", "adopt", "deploy", "undeploy"])
const badStates = fc.oneof(
  fc.tuple(nodeRef, anyJson.filter((t) => typeof t !== "string" || !provisionTargets.has(t)))
    .map(([ref, target]): Malformed => ({ method: "PUT", path: `/v1/nodes/${ref}/states/provision`, body: json({ target }) })),
  // Valid verbs the node cannot take in "enroll": refused, nothing recorded.
  fc.tuple(nodeRef, fc.constantFrom("provide", "active", "deleted", "rebuild", "abort", "unrescue", "adopt"))
    .map(([ref, target]): Malformed => ({ method: "PUT", path: `/v1/nodes/${ref}/states/provision`, body: json({ target }) })),
  fc.tuple(nodeRef, anyJson.filter((t) => !["power on", "power off", "rebooting", "soft power off"].includes(t as string)))
    .map(([ref, target]): Malformed => ({ method: "PUT", path: `/v1/nodes/${ref}/states/power`, body: json({ target }) })),
  fc.tuple(nodeRef, anyJson.filter((r) => typeof r !== "string" && r !== null))
    .map(([ref, reason]): Malformed => ({ method: "PUT", path: `/v1/nodes/${ref}/maintenance`, body: json({ reason }) })),
  fc.record({
    address: fc.oneof(fc.string({ maxLength: 20 }), fc.constant("127.0.0.1")),
    key: fc.oneof(anyJson, fc.constant("k")),
    iqn: fc.oneof(fc.string({ maxLength: 30 }), anyJson),
    lun: fc.oneof(fc.string({ maxLength: 5 }), fc.integer({ min: -5, max: -1 })),
  }).map((body): Malformed => ({ method: "POST", path: `/v1/nodes/${nodeUuid}/vendor_passthru/pass_deploy_info`, body: json(body) })),
  fc.string({ maxLength: 40 }).filter((s) => !s.includes(",") && E.isLeft(parseMac(s)) && s.trim() !== "")
    .map((s): Malformed => ({ method: "GET", path: `/v1/lookup?addresses=${encodeURIComponent(s)}` })),
)

/** A perfectly valid enroll, but asked at a version the server does not serve. */
const badVersion = fc.string({ maxLength: 12 })
  .filter((v) => {
    const t = v.trim().toLowerCase()
    if (t === "latest") return false
    const m = /^(\d{1,3})\.(\d{1,4})$/.exec(t)
    return m === null || Number(m[1]) !== 1 || Number(m[2]) < 1 || Number(m[2]) > 78
  })
  .filter((v) => /^[\x20-\x7e]*$/.test(v))
  .map((v): Malformed => ({
    method: "POST", path: "/v1/nodes", body: json({ driver: "fake-hardware", name: "never-created" }),
    headers: { "X-OpenStack-Ironic-API-Version": v },
  }))

const wrongMediaType = fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data")
  .map((ct): Malformed => ({ method: "POST", path: "/v1/nodes", body: json({ driver: "fake-hardware", name: "never-created" }), headers: { "Content-Type": ct } }))

const strayPaths = fc.tuple(fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE"), fc.webPath())
  .map(([method, p]): Malformed => ({ method, path: `/v1/x-${encodeURIComponent(p)}` }))

const huge = fc.integer({ min: 1, max: 64 * 1024 })
  .map((extra): Malformed => ({ method: "POST", path: "/v1/nodes", body: json({ driver: "fake-hardware", extra: { blob: "y".repeat(1024 * 1024 + extra) } }) }))

/** JSON nested deeper than the API accepts (it would overflow stacks further in). */
const deep = fc.tuple(fc.integer({ min: 40, max: 20_000 }), fc.boolean())
  .map(([depth, asPatch]): Malformed => {
    const nested = `${"[".repeat(depth)}${"]".repeat(depth)}`
    return asPatch
      ? { method: "PATCH", path: `/v1/nodes/${nodeUuid}`, body: `[{"op":"add","path":"/extra/deep","value":${nested}}]` }
      : { method: "POST", path: "/v1/nodes", body: `{"driver":"fake-hardware","extra":{"deep":${nested}}}` }
  })

/** The later versions' endpoints: network events, deploy templates, allocation PATCH, indicators, deploy steps. */
const goodEvent = { event: "network.bind_port", port_id: "11111111-2222-4333-8444-555555555555", mac_address: "52:54:00:00:99:01", status: "ACTIVE" }
const badEvents = fc.oneof(
  anyJson.filter((v) => typeof v !== "object" || v === null || Array.isArray(v)),
  fc.constant({ events: [] }),
  fc.tuple(fieldName.filter((k) => !["event", "port_id", "mac_address", "status", "device_id", "binding:host_id", "binding:vnic_type"].includes(k)), anyJson)
    .map(([k, v]) => ({ events: [{ ...goodEvent, [k]: v }] })),
  fc.string({ maxLength: 30 }).filter((e) => !["network.bind_port", "network.unbind_port", "network.delete_port"].includes(e)).map((event) => ({ events: [{ ...goodEvent, event }] })),
  fc.string({ maxLength: 40 }).filter((m) => E.isLeft(parseMac(m))).map((mac_address) => ({ events: [{ ...goodEvent, mac_address }] })),
  fc.string({ maxLength: 40 }).filter((u) => E.isLeft(parseUuid(u))).map((port_id) => ({ events: [{ ...goodEvent, port_id }] })),
).map((body): Malformed => ({ method: "POST", path: "/v1/events", body: json(body) }))

const goodStep = { interface: "bios", step: "factory_reset", args: {}, priority: 10 }
const badSteps = fc.oneof(
  fc.constant([] as Array<unknown>),
  fc.constant([goodStep, goodStep]),
  anyJson.filter((i) => typeof i !== "string" || !["vendor", "power", "management", "firmware", "deploy", "bios", "raid"].includes(i)).map((i) => [{ ...goodStep, interface: i }]),
  anyJson.filter((p) => !(Number.isInteger(p) && (p as number) >= 0) && !(typeof p === "string" && /^\d+$/.test(p))).map((priority) => [{ ...goodStep, priority }]),
  fc.tuple(fieldName.filter((k) => !["interface", "step", "args", "priority"].includes(k)), anyJson).map(([k, v]) => [{ ...goodStep, [k]: v }]),
  anyJson.filter((a) => typeof a !== "object" || a === null || Array.isArray(a)).map((args) => [{ ...goodStep, args }]),
)
const badTemplates = fc.oneof(
  badSteps.map((steps) => ({ name: "CUSTOM_MALFORMED", steps })),
  fc.string({ maxLength: 30 }).filter((n) => !/^[A-Z][A-Z0-9_]{0,254}$/.test(n)).map((name) => ({ name, steps: [goodStep] })),
  fc.tuple(fieldName.filter((k) => !["name", "steps", "uuid", "extra"].includes(k)), anyJson).map(([k, v]) => ({ name: "CUSTOM_MALFORMED", steps: [goodStep], [k]: v })),
  anyJson.filter((v) => typeof v !== "object" || v === null || Array.isArray(v)),
).map((body): Malformed => ({ method: "POST", path: "/v1/deploy_templates", body: json(body) }))
const badDeploySteps = fc.tuple(nodeRef, badSteps.filter((s) => s.length > 0))
  .map(([ref, deploy_steps]): Malformed => ({ method: "PUT", path: `/v1/nodes/${ref}/states/provision`, body: json({ target: "active", deploy_steps }) }))
const absentThings = fc.tuple(fc.stringMatching(/^[a-z0-9-]{1,20}$/), fc.constantFrom(
  (n: string): Malformed => ({ method: "PATCH", path: `/v1/allocations/absent-${n}`, body: json([{ op: "replace", path: "/name", value: "x" }]) }),
  (n: string): Malformed => ({ method: "PATCH", path: `/v1/deploy_templates/absent-${n}`, body: json([{ op: "replace", path: "/name", value: "CUSTOM_X" }]) }),
  (n: string): Malformed => ({ method: "DELETE", path: `/v1/deploy_templates/absent-${n}` }),
  // Prefixed: a generated "name" would be a field drivers have.
  (n: string): Malformed => ({ method: "GET", path: `/v1/drivers?fields=absent-${n}` }),
  (n: string): Malformed => ({ method: "PUT", path: `/v1/nodes/${nodeUuid}/management/indicators/${n}@system`, body: json({ state: "on" }) }),
  (n: string): Malformed => ({ method: "PUT", path: `/v1/nodes/${nodeUuid}/management/indicators/led@${n}`, body: json({ state: n }) }),
  (n: string): Malformed => ({ method: "PUT", path: `/v1/nodes/${nodeUuid}/states/provision`, body: json({ target: n.length > 3 ? "manage" : "provide", disable_ramdisk: true }) }),
)).map(([n, make]) => make(n))

const malformed = fc.oneof(
  { arbitrary: badEvents, weight: 2 },
  { arbitrary: badTemplates, weight: 2 },
  { arbitrary: badDeploySteps, weight: 1 },
  { arbitrary: absentThings, weight: 2 },
  { arbitrary: badJson, weight: 3 },
  { arbitrary: badNode, weight: 4 },
  { arbitrary: badPort, weight: 3 },
  { arbitrary: badPatch, weight: 4 },
  { arbitrary: badStates, weight: 3 },
  { arbitrary: badVersion, weight: 2 },
  { arbitrary: wrongMediaType, weight: 1 },
  { arbitrary: strayPaths, weight: 1 },
  { arbitrary: huge, weight: 1 },
  { arbitrary: deep, weight: 1 },
  { arbitrary: prototypePath, weight: 3 },
  { arbitrary: prototypeValue, weight: 1 },
  { arbitrary: badPortPatch, weight: 2 },
  { arbitrary: badVifs, weight: 2 },
  { arbitrary: badTraits, weight: 2 },
  { arbitrary: badFilters, weight: 1 },
  { arbitrary: badAllocations, weight: 2 },
  { arbitrary: absentAllocation, weight: 1 },
  { arbitrary: badPortgroups, weight: 2 },
  { arbitrary: badPortgroupPatch, weight: 2 },
  { arbitrary: badVolumes, weight: 2 },
  { arbitrary: badManagement, weight: 2 },
)

test("malformed requests get 4xx error documents and leave the event log untouched", { timeout: 180_000 }, async () => {
  // The notary's checkpoints come and go on their own clock; the nodes' streams must not move.
  const nodeEvents = async () => (await readEvents(svc.db)).filter((e) => e.streamId !== NOTARY_STREAM)
  const before = await nodeEvents()
  const shownBefore = await client(svc.url)("GET", `/v1/nodes/${nodeUuid}`)
  const statuses = new Map<number, number>()
  await fc.assert(
    fc.asyncProperty(malformed, async (req) => {
      const res = await fetch(`${svc.url}${req.path}`, {
        method: req.method,
        headers: {
          "X-OpenStack-Ironic-API-Version": "1.78",
          ...(req.body === undefined ? {} : { "Content-Type": "application/json" }),
          ...req.headers,
        },
        ...(req.body === undefined ? {} : { body: req.body }),
        signal: AbortSignal.timeout(10_000),
      })
      const text = await res.text()
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      assert.ok(res.status >= 400 && res.status < 500, `${req.method} ${req.path} ${req.body?.slice(0, 200)} -> ${res.status} ${text.slice(0, 300)}`)
      errorOf({ status: res.status, headers: res.headers, text, body: JSON.parse(text) })
    }),
    { numRuns: 2500 },
  )
  const after = await nodeEvents()
  assert.deepEqual(after, before)
  const shownAfter = await client(svc.url)("GET", `/v1/nodes/${nodeUuid}`)
  assert.deepEqual(shownAfter.body, shownBefore.body)
  // The generators must reach the interesting answers, not only one kind of refusal.
  for (const status of [400, 404, 406, 409, 413, 415]) assert.ok((statuses.get(status) ?? 0) > 0, `no ${status} seen: ${JSON.stringify([...statuses])}`)
})
