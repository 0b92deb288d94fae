// The instance an event was for is stored with the event (ADR 0047): an allocation, a deploy, a
// power action and a tear down on a node carrying an instance each land in the log with the
// instance's UUID in their metadata, read back through a second connection as an auditor would.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { client, readEvents, settleNode, startTestService, type TestService } from "./http-harness.ts"

let svc: TestService
let call: ReturnType<typeof client>

before(async () => {
  svc = await startTestService()
  call = client(svc.url)
})
after(async () => { await svc?.close() })

test("every event of an instance's actions carries its UUID in the stored metadata", async () => {
  const node = await call("POST", "/v1/nodes", { driver: "fake-hardware", name: "meta-1", resource_class: "meta" })
  assert.equal(node.status, 201, node.text)
  for (const [target, state] of [["manage", "manageable"], ["provide", "available"]] as const) {
    assert.equal((await call("PUT", `/v1/nodes/meta-1/states/provision`, { target })).status, 202)
    await settleNode(call, "meta-1", state)
  }
  const allocation = await call("POST", "/v1/allocations", { resource_class: "meta" })
  assert.equal(allocation.body.state, "active", allocation.text)
  const instance = allocation.body.uuid as string
  assert.equal((await call("PUT", "/v1/nodes/meta-1/states/provision", { target: "active" })).status, 202)
  await settleNode(call, "meta-1", "active")
  assert.equal((await call("PUT", "/v1/nodes/meta-1/states/power", { target: "rebooting" })).status, 202)
  assert.equal((await call("PUT", "/v1/nodes/meta-1/states/provision", { target: "deleted" })).status, 202)
  await settleNode(call, "meta-1", "available")

  const stream = (await readEvents(svc.db)).filter((e) => e.streamId === `node-${node.body.uuid}`)
  const metaOf = (e: (typeof stream)[number]) => e.meta as { instanceUuid?: string }
  const first = stream.findIndex((e) => e.type === "AllocationAssigned")
  const last = stream.findIndex((e) => e.type === "TearDownDone")
  assert.ok(first > 0 && last > first, stream.map((e) => e.type).join(", "))
  const during = stream.slice(first, last + 1)
  for (const type of ["AllocationAssigned", "DeployRequested", "DeployDone", "RebootRequested", "UndeployRequested", "TearDownDone"]) {
    assert.ok(during.some((e) => e.type === type), `${type} in ${during.map((e) => e.type).join(", ")}`)
  }
  assert.deepEqual(during.filter((e) => metaOf(e).instanceUuid !== instance).map((e) => e.type), [], "every event from allocation to tear down is stamped")
  assert.deepEqual(stream.slice(0, first).filter((e) => metaOf(e).instanceUuid !== undefined).map((e) => e.type), [], "nothing before the instance came")
  const history = (await call("GET", `/v1/instances/${instance}/history`)).body
  assert.ok(JSON.stringify(history).includes("TearDownDone"), "the instance's history reads the stamped events")
})
