// Rescue over HTTP on simulated machines (ADR 0095): rescue from active boots the simulated
// ramdisk in rescue mode, which fetches the password's crypt hash with its key and reports ready;
// the node is in rescue, the password is nowhere in plain text; unrescue brings it back to active.
// A rescue ramdisk that never reports times out into rescue failed; its calls refuse a wrong key.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { readFileSync } from "node:fs"
import { verify } from "unixcrypt"
import { simulatedHardware } from "../../src/cli/hardware.ts"
import { client, settleNode, startTestService, type TestService } from "./http-harness.ts"

const password = "s3cret rescue-pw"

const toActive = async (call: ReturnType<typeof client>, name: string, mac: string) => {
  const node = (await call("POST", "/v1/nodes", { driver: "sim", name })).body
  assert.equal(node.rescue_interface, "agent")
  assert.equal((await call("POST", "/v1/ports", { node_uuid: node.uuid, address: mac })).status, 201)
  for (const [target, state] of [["manage", "manageable"], ["provide", "available"], ["active", "active"]] as const) {
    assert.equal((await call("PUT", `/v1/nodes/${name}/states/provision`, { target })).status, 202)
    await settleNode(call, name, state)
  }
  return node.uuid as string
}

const waitFor = async (call: ReturnType<typeof client>, name: string, state: string) => {
  for (let i = 0; i < 400 && (await call("GET", `/v1/nodes/${name}`)).body.provision_state !== state; i++) await new Promise((r) => setTimeout(r, 5))
  assert.equal((await call("GET", `/v1/nodes/${name}`)).body.provision_state, state)
}

describe("rescue of a simulated machine", () => {
  let svc: TestService
  let call: ReturnType<typeof client>
  before(async () => {
    svc = await startTestService({ hardware: simulatedHardware({ callbackDelayMs: 20 }) })
    call = client(svc.url)
  })
  after(async () => { await svc?.close() })

  test("rescue waits for the ramdisk's report, keeps only the hash, unrescue returns to active", { timeout: 60_000 }, async () => {
    const uuid = await toActive(call, "resc-1", "52:54:00:e1:00:01")
    assert.equal((await call("PUT", "/v1/nodes/resc-1/states/provision", { target: "rescue", rescue_password: password })).status, 202)
    const n = await settleNode(call, "resc-1", "rescue")
    assert.equal(n.last_error, null)
    assert.equal(n.power_state, "power on")

    const history = (await call("GET", "/v1/nodes/resc-1/history/detail")).body.history as Array<Record<string, any>>
    const types = history.map((e) => e["type"])
    const from = types.lastIndexOf("RescueRequested")
    assert.deepEqual(types.slice(from).filter((t) => ["RescueRequested", "RamdiskKeyIssued", "BootConfigRequested", "CallbackAwaited", "RebootRequested", "RescueRamdiskReady", "Rescued"].includes(t)),
      ["RescueRequested", "RamdiskKeyIssued", "BootConfigRequested", "CallbackAwaited", "RebootRequested", "RescueRamdiskReady", "Rescued"])
    assert.equal(history.find((e) => e["type"] === "RescueRamdiskReady")!["actor"], "ramdisk")
    // Only a crypt SHA-512 hash of the password is recorded; the password itself is nowhere.
    const hash = history[from]!["data"].passwordHash as string
    assert.match(hash, /^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/)
    assert.ok(verify(password, hash))
    assert.ok(!JSON.stringify(history).includes(password))
    assert.ok(!readFileSync(svc.db).includes(Buffer.from(password)), "the password is not in the event store")
    assert.ok(!JSON.stringify((await call("GET", "/v1/nodes/resc-1")).body).includes(hash), "the node's document does not show the hash")

    // Once the rescue is up, the ramdisk's calls answer nothing: the key is spent.
    const late = await client(svc.url, {})("POST", `/v1/nodes/${uuid}/vendor_passthru/rescue_password`, { key: "anything" })
    assert.equal(late.status, 404)

    assert.equal((await call("PUT", "/v1/nodes/resc-1/states/provision", { target: "unrescue" })).status, 202)
    const back = await settleNode(call, "resc-1", "active")
    assert.equal(back.last_error, null)
    const after = ((await call("GET", "/v1/nodes/resc-1/history")).body.history as Array<{ type: string }>).map((e) => e.type)
    assert.deepEqual(after.slice(after.lastIndexOf("UnrescueRequested")).filter((t) => t.startsWith("Unrescue") || t === "BootConfigRequested" || t === "RebootRequested"),
      ["UnrescueRequested", "BootConfigRequested", "RebootRequested", "Unrescued"])
  })

  test("rescue_password is checked: missing, empty, control characters are 400; the ramdisk's calls validate their bodies", async () => {
    const node = (await call("POST", "/v1/nodes", { driver: "sim", name: "resc-2" })).body
    const put = (body: unknown) => call("PUT", "/v1/nodes/resc-2/states/provision", body)
    assert.equal((await put({ target: "rescue" })).status, 400)
    assert.equal((await put({ target: "rescue", rescue_password: "" })).status, 400)
    const ramdisk = client(svc.url, {})
    for (const [method, body] of [["rescue_password", {}], ["rescue_password", { key: "" }], ["rescue_ready", { key: "k", extra: 1 }], ["rescue_ready", { key: "k", error: 3 }]] as const) {
      assert.equal((await ramdisk("POST", `/v1/nodes/${node.uuid}/vendor_passthru/${method}`, body)).status, 400, `${method} ${JSON.stringify(body)}`)
    }
    // A node not waiting for a rescue ramdisk answers as one that does not exist.
    assert.equal((await ramdisk("POST", `/v1/nodes/${node.uuid}/vendor_passthru/rescue_ready`, { key: "k" })).status, 404)
  })

  test("a control character in the password is refused before anything is recorded", async () => {
    await toActive(call, "resc-3", "52:54:00:e1:00:03")
    const r = await call("PUT", "/v1/nodes/resc-3/states/provision", { target: "rescue", rescue_password: "a\nb" })
    assert.equal(r.status, 400)
    assert.match(r.text, /control characters/)
    assert.equal((await call("GET", "/v1/nodes/resc-3")).body.provision_state, "active")
  })
})

describe("a rescue whose ramdisk never reports", () => {
  let svc: TestService
  before(async () => {
    // The rescue ramdisk boots but never reaches the API (deploys and cleanings do).
    svc = await startTestService({ hardware: simulatedHardware({ callbackDelayMs: 20, rescue: async () => true }), conductor: { callbackTimeoutMs: 1500 } })
  })
  after(async () => { await svc?.close() })

  test("times out of rescue wait into rescue failed; a wrong key learns nothing; unrescue returns to active", { timeout: 60_000 }, async () => {
    const call = client(svc.url)
    const uuid = await toActive(call, "resc-late", "52:54:00:e1:00:09")
    assert.equal((await call("PUT", "/v1/nodes/resc-late/states/provision", { target: "rescue", rescue_password: password })).status, 202)
    await waitFor(call, "resc-late", "rescue wait")
    const ramdisk = client(svc.url, {})
    assert.equal((await ramdisk("POST", `/v1/nodes/${uuid}/vendor_passthru/rescue_password`, { key: "not-the-key" })).status, 404)
    assert.equal((await ramdisk("POST", `/v1/nodes/${uuid}/vendor_passthru/rescue_ready`, { key: "not-the-key" })).status, 404)
    const failed = await settleNode(call, "resc-late", "rescue failed")
    assert.match(failed.last_error, /timed out waiting for the ramdisk/)
    const types = ((await call("GET", "/v1/nodes/resc-late/history")).body.history as Array<{ type: string }>).map((e) => e.type)
    assert.ok(types.includes("WaitTimedOut"))
    assert.ok(!types.includes("Rescued"))
    assert.equal((await call("PUT", "/v1/nodes/resc-late/states/provision", { target: "unrescue" })).status, 202)
    await settleNode(call, "resc-late", "active")
  })
})
