// Structured logs: JSON lines through pino with time, level, msg, request id, actor and node; every
// answer echoes X-OpenStack-Request-Id (the client's own when well-formed); no secret ever reaches
// a line, even for a node enrolled, patched and driven with a BMC password.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { Writable } from "node:stream"
import { connect } from "node:net"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { effectLoggerLayer, makeLogger } from "../../src/adapters/logging/pino.ts"
import { client, startTestService, type TestService } from "./http-harness.ts"

/** Everything written to the logger, as it was written. */
const capture = () => {
  const chunks: Array<string> = []
  const destination = new Writable({ write(chunk, _enc, done) { chunks.push(String(chunk)); done() } })
  return { destination, text: () => chunks.join(""), lines: () => chunks.join("").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>) }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const requestIdShape = /^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe("the service's logs", () => {
  const out = capture()
  let svc: TestService
  let call: ReturnType<typeof client>
  before(async () => {
    svc = await startTestService({ logger: makeLogger({ destination: out.destination, pretty: false }) })
    call = client(svc.url)
  })
  after(async () => { await svc?.close() })

  test("every answer carries a request id, the client's own when it has Ironic's shape", async () => {
    const fresh = await call("GET", "/v1/nodes")
    const id = fresh.headers.get("x-openstack-request-id")
    assert.match(id ?? "", requestIdShape)
    assert.equal(fresh.headers.get("openstack-request-id"), id)
    assert.notEqual((await call("GET", "/v1/nodes")).headers.get("x-openstack-request-id"), id)

    const mine = "req-0b5e9c1a-2f4d-4c8e-9a1b-3c5d7e9f1a2b"
    assert.equal((await call("GET", "/v1/nodes", undefined, { "X-OpenStack-Request-Id": mine })).headers.get("x-openstack-request-id"), mine)
    const other = "req-1c6f0d2b-3a5e-4d9f-8b2c-4d6e8f0a2b3c"
    assert.equal((await call("GET", "/v1/nodes/nothing-here", undefined, { "Openstack-Request-Id": other })).headers.get("x-openstack-request-id"), other)
    // Anything else is client text: replaced, so it never reaches a log line.
    const junk = await call("GET", "/v1/nodes", undefined, { "X-OpenStack-Request-Id": "req-x\",\"level\":\"fatal" })
    assert.match(junk.headers.get("x-openstack-request-id") ?? "", requestIdShape)
    // Errors from routing and from malformed input too.
    assert.match((await call("DELETE", "/v1")).headers.get("x-openstack-request-id") ?? "", requestIdShape)
    assert.match((await call("POST", "/v1/nodes", "{not json")).headers.get("x-openstack-request-id") ?? "", requestIdShape)

    // Malformed HTTP never reaches a route, and still gets one.
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(svc.url).port), "127.0.0.1", () => socket.end("NOT HTTP AT ALL\r\n\r\n"))
      let text = ""
      socket.on("data", (d) => { text += String(d) }).on("end", () => resolve(text)).on("error", reject)
    })
    assert.match(raw, /^HTTP\/1\.1 400 /)
    assert.match(raw, /\r\nX-OpenStack-Request-Id: req-[0-9a-f-]{36}\r\n/)

    const line = out.lines().find((l) => l["request_id"] === other)
    assert.ok(line !== undefined, out.text())
    assert.equal(line["level"], "info")
    assert.equal(line["msg"], "request")
    assert.ok(!Number.isNaN(Date.parse(String(line["time"]))))
    assert.equal(line["actor"], "user:noauth")
    assert.equal(line["node"], "nothing-here")
    assert.equal(line["route"], "/v1/nodes/:node")
    assert.equal(line["status"], 404)
    assert.ok(out.lines().every((l) => typeof l["request_id"] !== "string" || requestIdShape.test(l["request_id"] as string) || l["request_id"] === mine || l["request_id"] === other))
  })

  test("no secret reaches a line: a node enrolled, patched and driven with a BMC password", { timeout: 60_000 }, async () => {
    // IPMI 2.0 passwords are at most 20 bytes.
    const password = `pw-${randomBytes(8).toString("hex")}`
    const second = `pw-${randomBytes(8).toString("hex")}`
    const enrolled = await call("POST", "/v1/nodes", {
      driver: "ipmi", name: "logged-1",
      // A closed loopback port: the conductor's attempt to reach the BMC fails, as a real mistake would.
      driver_info: { ipmi_address: "127.0.0.1", ipmi_port: 9, ipmi_username: "admin", ipmi_password: password },
    })
    assert.equal(enrolled.status, 201, enrolled.text)
    assert.equal((await call("PATCH", "/v1/nodes/logged-1", [{ op: "replace", path: "/driver_info/ipmi_password", value: second }])).status, 200)
    assert.equal((await call("PATCH", "/v1/nodes/logged-1", [{ op: "replace", path: "/driver_info", value: second }])).status, 400)
    assert.equal((await call("POST", "/v1/nodes", { driver: "ipmi", name: "has space", driver_info: { ipmi_password: password } })).status, 400)
    assert.equal((await call("PUT", "/v1/nodes/logged-1/states/provision", { target: "manage" })).status, 202)
    let node: Record<string, unknown> = {}
    for (let i = 0; i < 400; i++) {
      node = (await call("GET", "/v1/nodes/logged-1")).body
      if (node["target_provision_state"] === null) break
      await sleep(50)
    }
    // The conductor used the password (ipmitool ran against the closed port) and failed.
    assert.match(String(node["last_error"]), /BMC did not answer/, JSON.stringify(node))
    const text = out.text()
    assert.ok(text.includes("logged-1"), "the node's requests are logged")
    assert.ok(!text.includes(password) && !text.includes(second), "a password reached the log")
  })
})

test("Effect's log lines become structured lines with their annotations", async () => {
  const out = capture()
  const logger = makeLogger({ destination: out.destination, pretty: false })
  class BmcDown extends Data.TaggedError("BmcDown")<{ readonly reason: string }> {}
  await Effect.runPromise(Effect.logWarning("conductor: node n-1", new BmcDown({ reason: "no answer" })).pipe(
    Effect.annotateLogs({ node: "n-1", actor: "conductor" }),
    Effect.provide(effectLoggerLayer(logger)),
  ))
  const [line] = out.lines()
  assert.equal(line?.["level"], "warn")
  assert.equal(line?.["node"], "n-1")
  assert.equal(line?.["actor"], "conductor")
  assert.match(String(line?.["msg"]), /^conductor: node n-1 BmcDown: /)
})

test("fields named like secrets are censored, and a terminal gets readable lines", () => {
  const out = capture()
  makeLogger({ destination: out.destination, pretty: false }).info({ driver_info: { ipmi_password: "hunter2" }, token: "t0k3n" }, "enrolled")
  assert.ok(!out.text().includes("hunter2") && !out.text().includes("t0k3n"), out.text())
  const tty = capture()
  makeLogger({ destination: tty.destination, pretty: true }).info({ request_id: "req-1", node: "n-1" }, "request")
  assert.match(tty.text(), /INFO.*request/)
  assert.match(tty.text(), /request_id: "req-1"/)
  assert.throws(() => JSON.parse(tty.text()))
})
