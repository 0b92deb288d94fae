// Thousands of generated malformed requests against the running API: bad JSON, wrong types,
// unknown fields, huge bodies, bad MACs and UUIDs, JSON PATCH to forbidden paths, bad version
// headers, refused transitions. Every answer must be a 4xx in Ironic's error format, and the
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
const nodeName = "target-node"

before(async () => {
  svc = await startTestService()
  const call = client(svc.url)
  const node = await call("POST", "/v1/nodes", {
    driver: "fake-hardware", name: nodeName, extra: { present: "yes" }, driver_info: { ipmi_password: "pw" },
  })
  assert.equal(node.status, 201)
  nodeUuid = node.body.uuid
  assert.equal((await call("POST", "/v1/ports", { address: "52:54:00:00:99:01", node_uuid: nodeUuid })).status, 201)
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

const knownNodeFields = new Set(["driver", "uuid", "name", "driver_info", "properties", "instance_info", "extra"])

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
  fc.tuple(fieldName.filter((k) => k !== "address" && k !== "node_uuid" && k !== "pxe_enabled"), anyJson)
    .map(([k, v]) => ({ address: "52:54:00:00:99:03", node_uuid: nodeUuid, [k]: v })),
  anyJson.filter((v) => typeof v !== "object" || v === null || Array.isArray(v)),
).map((body): Malformed => ({ method: "POST", path: "/v1/ports", body: json(body) }))

const allowedHeads = new Set(["name", "driver", "driver_info", "properties", "instance_info", "extra"])
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

const provisionTargets = new Set(["manage", "provide", "active", "deleted", "rebuild", "abort", "inspect", "clean", "rescue", "unrescue", "adopt"])
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

const malformed = fc.oneof(
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
