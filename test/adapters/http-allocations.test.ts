// Allocations over real HTTP: the scheduler's matching (resource class, traits, candidates,
// owner, a flavor's properties), what it skips, backfill, and that concurrent allocations never
// bind one node twice, with the service's real SQLite store and its optimistic appends.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { client, enrollAvailable, messageOf, settleNode, startTestService, type TestService } from "./http-harness.ts"

let svc: TestService
let call: ReturnType<typeof client>

before(async () => {
  svc = await startTestService()
  call = client(svc.url)
})
after(async () => { await svc?.close() })

const available = (name: string, extra: Record<string, unknown> = {}) => enrollAvailable(call, name, extra)

const allocate = async (body: Record<string, unknown>) => {
  const r = await call("POST", "/v1/allocations", body)
  assert.equal(r.status, 201, r.text)
  return r.body
}

describe("allocations", () => {
  const big = { cpus: 16, memory_mb: 65536, local_gb: 400, cpu_arch: "x86_64" }
  const small = { cpus: 4, memory_mb: 8192, local_gb: 40, cpu_arch: "x86_64" }

  test("the scheduler matches class, traits, properties, candidates and owner, and skips what is not free", async () => {
    await available("al-big", { resource_class: "bm", properties: big })
    await available("al-small", { resource_class: "bm", properties: small })
    await available("al-arm", { resource_class: "bm", properties: { ...big, cpu_arch: "aarch64" } })
    await available("al-gpu", { resource_class: "gpu", properties: big, owner: "team-a" })
    assert.equal((await call("PUT", "/v1/nodes/al-small/traits/CUSTOM_FAST")).status, 204)

    const byFlavor = await allocate({ resource_class: "bm", properties: { cpus: 8, memory_mb: 16384, local_gb: 100, cpu_arch: "x86_64" }, name: "web-1" })
    assert.equal(byFlavor.state, "active")
    const bigNode = (await call("GET", "/v1/nodes/al-big")).body
    assert.equal(byFlavor.node_uuid, bigNode.uuid)
    assert.equal(bigNode.allocation_uuid, byFlavor.uuid)
    assert.equal(bigNode.instance_uuid, byFlavor.uuid)
    assert.equal((await call("GET", "/v1/allocations/web-1")).body.uuid, byFlavor.uuid)
    assert.equal((await call("GET", "/v1/nodes/al-big/allocation")).body.uuid, byFlavor.uuid)

    const byTrait = await allocate({ resource_class: "bm", traits: ["CUSTOM_FAST"] })
    assert.equal(byTrait.node_uuid, (await call("GET", "/v1/nodes/al-small")).body.uuid)
    const arm = await allocate({ resource_class: "bm", properties: { cpu_arch: "aarch64" } })
    assert.equal(arm.node_uuid, (await call("GET", "/v1/nodes/al-arm")).body.uuid)
    // Every bm node is taken now: the next one is an error that says so.
    const none = await allocate({ resource_class: "bm" })
    assert.equal(none.state, "error")
    assert.equal(none.node_uuid, null)
    assert.match(none.last_error, /No available nodes match/)
    assert.equal((await allocate({ resource_class: "gpu", owner: "team-b" })).state, "error")
    // Maintenance, retired and candidate lists are honoured.
    assert.equal((await call("PATCH", "/v1/nodes/al-gpu", [{ op: "replace", path: "/maintenance", value: true }])).status, 200)
    assert.equal((await allocate({ resource_class: "gpu" })).state, "error")
    assert.equal((await call("PATCH", "/v1/nodes/al-gpu", [{ op: "replace", path: "/maintenance", value: false }])).status, 200)
    assert.equal((await allocate({ resource_class: "gpu", candidate_nodes: ["al-big"] })).state, "error")
    const forced = await allocate({ resource_class: "gpu", candidate_nodes: ["al-gpu"], owner: "team-a" })
    assert.equal(forced.state, "active")
    assert.deepEqual(forced.candidate_nodes, [(await call("GET", "/v1/nodes/al-gpu")).body.uuid])

    const listed = await call("GET", "/v1/allocations?state=active&resource_class=bm")
    assert.equal(listed.body.allocations.length, 3)
    assert.equal((await call("GET", "/v1/allocations?node=al-gpu")).body.allocations.length, 1)
    // Deleting frees the node and its instance_uuid.
    assert.equal((await call("DELETE", `/v1/allocations/${byFlavor.uuid}`)).status, 204)
    const freed = (await call("GET", "/v1/nodes/al-big")).body
    assert.deepEqual([freed.allocation_uuid, freed.instance_uuid], [null, null])
    assert.equal((await call("GET", `/v1/allocations/${byFlavor.uuid}`)).status, 404)
    assert.equal((await call("DELETE", "/v1/nodes/al-gpu/allocation")).status, 204)
    for (const id of [byTrait.uuid, arm.uuid]) assert.equal((await call("DELETE", `/v1/allocations/${id}`)).status, 204)
  })

  test("bad requests, old versions, and backfill for a deployed node", async () => {
    for (const body of [{}, { resource_class: "bm", traits: ["lower"] }, { resource_class: "bm", candidate_nodes: ["no-such-node"] },
      { resource_class: "bm", bogus: 1 }, { resource_class: "bm", properties: { gpus: 1 } }, { node: "al-big", candidate_nodes: ["al-big"] }]) {
      const r = await call("POST", "/v1/allocations", body)
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`)
    }
    assert.equal((await call("GET", "/v1/allocations", undefined, { "X-OpenStack-Ironic-API-Version": "1.51" })).status, 404)
    assert.equal((await call("GET", "/v1/allocations?bogus=1")).status, 400)
    // A node deployed without an allocation gets one backfilled.
    await available("al-deployed", { resource_class: "bm" })
    assert.equal((await call("PUT", "/v1/nodes/al-deployed/states/provision", { target: "active" })).status, 202)
    await settleNode(call, "al-deployed", "active")
    const backfilled = await allocate({ node: "al-deployed", name: "legacy" })
    assert.equal(backfilled.state, "active")
    const node = (await call("GET", "/v1/nodes/al-deployed")).body
    assert.equal(node.allocation_uuid, backfilled.uuid)
    const busy = await call("DELETE", "/v1/allocations/legacy")
    assert.equal(busy.status, 409)
    assert.match(messageOf(busy), /undeploy/)
    // Undeploying frees the node of its allocation, as Ironic's tear down does.
    assert.equal((await call("PUT", "/v1/nodes/al-deployed/states/provision", { target: "deleted" })).status, 202)
    await settleNode(call, "al-deployed", "available")
    assert.equal((await call("GET", "/v1/allocations/legacy")).status, 404)
  })
})

describe("concurrent allocations", () => {
  test("never bind one node twice: each free node gets at most one, and every request gets a node while any is free", { timeout: 120_000 }, async () => {
    const pool = await Promise.all(["cc-0", "cc-1", "cc-2", "cc-3"].map((name) => available(name, { resource_class: "race" })))
    await fc.assert(fc.asyncProperty(fc.integer({ min: 2, max: 10 }), async (requests) => {
      const answers = await Promise.all(Array.from({ length: requests }, () => call("POST", "/v1/allocations", { resource_class: "race" })))
      for (const a of answers) assert.equal(a.status, 201, a.text)
      const active = answers.filter((a) => a.body.state === "active").map((a) => a.body)
      const nodes = active.map((a) => a.node_uuid as string)
      assert.equal(new Set(nodes).size, nodes.length, `a node was bound twice: ${nodes}`)
      assert.equal(active.length, Math.min(requests, pool.length))
      for (const a of active) {
        const node = (await call("GET", `/v1/nodes/${a.node_uuid}`)).body
        assert.equal(node.allocation_uuid, a.uuid)
      }
      for (const a of answers) assert.equal((await call("DELETE", `/v1/allocations/${a.body.uuid}`)).status, 204)
    }), { numRuns: 8 })
  })
})
