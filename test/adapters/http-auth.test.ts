// Token auth (admin / reader), the ramdisk endpoints open without a token, saturation (503) and
// malformed HTTP still answered in the error format.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { connect } from "node:net"
import { client, errorOf, startTestService, type TestService } from "./http-harness.ts"

const adminToken = "admin-token-0123456789abcdef"
const readerToken = "reader-token-0123456789abcdef"

describe("token auth", () => {
  let svc: TestService
  before(async () => {
    svc = await startTestService({
      auth: { mode: "token", tokens: [{ user: "ops", role: "admin", token: adminToken }, { user: "audit", role: "reader", token: readerToken }] },
    })
  })
  after(async () => { await svc?.close() })

  test("no token or a wrong one is 401; the version documents stay public", async () => {
    const anonymous = client(svc.url)
    assert.equal((await anonymous("GET", "/v1/nodes")).status, 401)
    assert.equal((await anonymous("GET", "/v1/nodes", undefined, { "X-Auth-Token": "wrong-token-0123456789" })).status, 401)
    errorOf(await anonymous("GET", "/v1/nodes"))
    assert.equal((await anonymous("GET", "/")).status, 200)
    assert.equal((await anonymous("GET", "/v1")).status, 200)
  })

  test("a reader may GET but not change anything; an admin may; events record who", async () => {
    const admin = client(svc.url, { "X-OpenStack-Ironic-API-Version": "1.78", "X-Auth-Token": adminToken })
    const reader = client(svc.url, { "X-OpenStack-Ironic-API-Version": "1.78", "X-Auth-Token": readerToken })
    const refused = await reader("POST", "/v1/nodes", { driver: "fake-hardware", name: "by-reader" })
    assert.equal(refused.status, 403)
    errorOf(refused)
    const created = await admin("POST", "/v1/nodes", { driver: "fake-hardware", name: "by-admin" })
    assert.equal(created.status, 201)
    assert.equal((await reader("GET", "/v1/nodes/by-admin")).status, 200)
    assert.equal((await reader("PUT", "/v1/nodes/by-admin/maintenance", { reason: "x" })).status, 403)
    assert.equal((await reader("GET", "/v1/nodes/by-reader")).status, 404)
    const history = await reader("GET", "/v1/nodes/by-admin/history")
    assert.equal(history.body.history[0].actor, "user:ops")
  })

  test("the ramdisk endpoints need no token (the deploy key guards them)", async () => {
    const admin = client(svc.url, { "X-OpenStack-Ironic-API-Version": "1.78", "X-Auth-Token": adminToken })
    const node = await admin("POST", "/v1/nodes", { driver: "fake-hardware", name: "ramdisk-open" })
    await admin("POST", "/v1/ports", { address: "52:54:00:bb:00:01", node_uuid: node.body.uuid })
    const ramdisk = client(svc.url)
    // Reached without a token (no 401), and answered by the application: the node waits for no ramdisk.
    const found = await ramdisk("GET", "/v1/lookup?addresses=52:54:00:bb:00:01")
    assert.equal(found.status, 404)
    const callback = await ramdisk("POST", `/v1/nodes/${node.body.uuid}/vendor_passthru/pass_deploy_info`,
      { address: "127.0.0.1", key: "guess", iqn: "iqn.2026-11.io.ironledger:x" })
    assert.equal(callback.status, 404)
    assert.equal((await ramdisk("GET", `/v1/nodes/${node.body.uuid}/vendor_passthru/methods`)).status, 401)
  })
})

describe("saturation and malformed HTTP", () => {
  let svc: TestService
  before(async () => { svc = await startTestService({ maxInFlight: 1 }) })
  after(async () => { await svc?.close() })

  test("past maxInFlight requests, new ones get a 503 with Retry-After", async () => {
    // Hold the only slot: a POST whose body never finishes arriving.
    const socket = connect(new URL(svc.url).port ? Number(new URL(svc.url).port) : 80, "127.0.0.1")
    try {
      await new Promise<void>((resolve, reject) => { socket.once("connect", resolve); socket.once("error", reject) })
      socket.write("POST /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"dri")
      await new Promise((r) => setTimeout(r, 100))
      const r = await client(svc.url)("GET", "/v1/nodes")
      assert.equal(r.status, 503)
      assert.equal(errorOf(r)["faultcode"], "Server")
      assert.ok(r.headers.get("retry-after"))
    } finally {
      socket.destroy()
    }
    // The slot is released once the stalled request is gone.
    let status = 0
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await client(svc.url)("GET", "/v1/nodes")).status
      if (status !== 200) await new Promise((r) => setTimeout(r, 20))
    }
    assert.equal(status, 200)
  })

  test("a malformed request line still gets a JSON error document", async () => {
    const port = Number(new URL(svc.url).port)
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => socket.write("GARBAGE\r\n\r\n"))
      let data = ""
      socket.on("data", (d) => { data += d.toString() })
      socket.on("end", () => resolve(data))
      socket.on("error", reject)
      socket.setTimeout(5000, () => { socket.destroy(); reject(new Error("no answer")) })
    })
    assert.match(raw, /^HTTP\/1\.1 400/)
    const body = JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4))
    assert.equal(typeof body.error_message, "string")
    assert.equal(JSON.parse(body.error_message).code, 400)
  })
})
