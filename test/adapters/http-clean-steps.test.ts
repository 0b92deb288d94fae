// Cleaning steps over the HTTP API: clean_steps in a provision request checked against what the
// node's interfaces offer (400 with what is offered), a fake BIOS step run through its interface,
// and the ramdisk's step calls: malformed bodies refused, a node not cleaning answers 404.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { client, errorOf, messageOf, settleNode, startTestService, type TestService } from "./http-harness.ts"

let svc: TestService
let call: ReturnType<typeof client>
before(async () => { svc = await startTestService(); call = client(svc.url) })
after(async () => { await svc?.close() })

test("clean_steps are checked against the node's interfaces; an offered out-of-band step runs and is in the history", async () => {
  const enrolled = await call("POST", "/v1/nodes", { driver: "fake-hardware", name: "clean-http" })
  assert.equal(enrolled.status, 201, enrolled.text)
  assert.equal((await call("PUT", "/v1/nodes/clean-http/states/provision", { target: "manage" })).status, 202)
  await settleNode(call, "clean-http", "manageable")
  const provision = (body: Record<string, unknown>) => call("PUT", "/v1/nodes/clean-http/states/provision", body)

  const unknown = await provision({ target: "clean", clean_steps: [{ interface: "deploy", step: "erase_devices" }] })
  assert.equal(unknown.status, 400)
  assert.match(messageOf(unknown), /deploy\.erase_devices is not offered.*bios\.apply_configuration, bios\.factory_reset/)
  const malformed = await provision({ target: "clean", clean_steps: [{ step: "factory_reset" }] })
  assert.equal(malformed.status, 400)
  errorOf(malformed)
  assert.equal((await provision({ target: "clean" })).status, 400)

  assert.equal((await provision({ target: "clean", clean_steps: [{ interface: "bios", step: "factory_reset" }] })).status, 202)
  await settleNode(call, "clean-http", "manageable")
  const history = await call("GET", "/v1/nodes/clean-http/history")
  const types = (history.body.history as Array<Record<string, unknown>>).map((e) => e["type"])
  assert.ok(types.includes("CleanStepRequested") && types.includes("CleanStepDone"), types.join(","))
})

test("the ramdisk's step calls: a bad body is 400, a node that is not cleaning answers 404", async () => {
  const node = await call("POST", "/v1/nodes", { driver: "fake-hardware", name: "agent-http" })
  for (const [method, body] of [["clean_step", {}], ["clean_step", { key: "" }], ["clean_step_result", { key: "k" }], ["clean_step", { key: "k", extra: 1 }]] as const) {
    const r = await call("POST", `/v1/nodes/${node.body.uuid}/vendor_passthru/${method}`, body)
    assert.equal(r.status, 400, `${method} ${JSON.stringify(body)}: ${r.text}`)
  }
  assert.equal((await call("POST", `/v1/nodes/${node.body.uuid}/vendor_passthru/clean_step`, { key: "k" })).status, 404)
  assert.equal((await call("POST", `/v1/nodes/${node.body.uuid}/vendor_passthru/clean_step_result`, { key: "k", step: "s" })).status, 404)
  const methods = await call("GET", `/v1/nodes/${node.body.uuid}/vendor_passthru/methods`)
  assert.deepEqual(Object.keys(methods.body).sort(), ["clean_step", "clean_step_result", "inventory", "pass_deploy_info", "rescue_password", "rescue_ready"])
})
