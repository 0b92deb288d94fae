// GET /metrics: the service's Prometheus exposition, read by the official parser (prometheus_client)
// before and after a deploy of a fake-hardware node: request counters, step histograms, nodes by
// state and append latency move; the endpoint is behind the same auth as other reads.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { parsePrometheusText, type Family } from "../support/prometheus-text.ts"
import { simulatedHardware } from "../../src/cli/hardware.ts"
import { client, startTestService, settleNode, type TestService } from "./http-harness.ts"

const adminToken = "metrics-admin-token-0001"
const readerToken = "metrics-reader-token-001"
let svc: TestService
let call: ReturnType<typeof client>
before(async () => {
  svc = await startTestService({
    auth: { mode: "token", tokens: [{ user: "ops", role: "admin", token: adminToken }, { user: "prom", role: "reader", token: readerToken }] },
  })
  call = client(svc.url, { "X-OpenStack-Ironic-API-Version": "1.78", "X-Auth-Token": adminToken })
})
after(async () => { await svc?.close() })


const scrape = async (): Promise<Map<string, Family>> => {
  const r = await call("GET", "/metrics", undefined, { "X-Auth-Token": readerToken })
  assert.equal(r.status, 200, r.text.slice(0, 200))
  assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/)
  return new Map((await parsePrometheusText(r.text)).map((f) => [f.name, f]))
}

const family = (m: Map<string, Family>, name: string, type: string): Family => {
  const f = m.get(name)
  assert.ok(f !== undefined, `no ${name} in the scrape: ${[...m.keys()].join(", ")}`)
  assert.equal(f.type, type, name)
  return f
}

/** The sum of the family's samples named `sample` whose labels include `labels`. */
const valueOf = (f: Family, sample: string, labels: Record<string, string> = {}): number =>
  f.samples.filter((s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0)

const settle = (name: string, state: string) => settleNode(call, name, state)

const provision = async (name: string, target: string, state: string) => {
  assert.equal((await call("PUT", `/v1/nodes/${name}/states/provision`, { target })).status, 202)
  await settle(name, state)
}

test("/metrics needs a token like any read", async () => {
  const r = await fetch(`${svc.url}/metrics`)
  assert.equal(r.status, 401)
})

test("a deploy moves the request, step, append and fleet metrics", { timeout: 60_000 }, async () => {
  const first = await scrape()
  const nodesBefore = family(first, "ironledger_nodes_by_provision_state", "gauge")
  assert.equal(valueOf(nodesBefore, "ironledger_nodes_by_provision_state", { state: "active" }), 0)
  assert.equal(family(first, "ironledger_hardware_step_duration_seconds", "histogram").samples.length, 0)

  assert.equal((await call("POST", "/v1/nodes", { driver: "fake-hardware", name: "scraped" })).status, 201)
  await provision("scraped", "manage", "manageable")
  await provision("scraped", "provide", "available")
  await call("PATCH", "/v1/nodes/scraped", [{ op: "add", path: "/instance_info/image_source", value: "" }])
  await provision("scraped", "active", "active")
  assert.equal((await call("GET", "/v1/nodes/no-such-node")).status, 404)

  const m = await scrape()
  assert.equal(valueOf(family(m, "ironledger_nodes_by_provision_state", "gauge"), "ironledger_nodes_by_provision_state", { state: "active" }), 1)
  assert.equal(valueOf(family(m, "ironledger_nodes_by_power_state", "gauge"), "ironledger_nodes_by_power_state", { state: "power on" }), 1)
  assert.equal(family(m, "ironledger_nodes_in_maintenance", "gauge").samples[0]?.value, 0)

  const steps = family(m, "ironledger_hardware_step_duration_seconds", "histogram")
  const stepCount = "ironledger_hardware_step_duration_seconds_count"
  assert.ok(valueOf(steps, stepCount, { step: "PowerOnRequested", driver: "fake-hardware" }) >= 1, JSON.stringify(steps.samples))
  assert.equal(valueOf(steps, "ironledger_hardware_step_duration_seconds_bucket", { le: "+Inf" }), valueOf(steps, stepCount))

  // Counted per write to the store: the conductor writes an instant operation's events in one
  // append and the group commit joins concurrent ones (ADR 0125), so the count is not per event.
  const appends = family(m, "ironledger_event_store_append_seconds", "histogram")
  const appendsBefore = family(first, "ironledger_event_store_append_seconds", "histogram").samples
    .find((s) => s.name === "ironledger_event_store_append_seconds_count")?.value ?? 0
  assert.ok(valueOf(appends, "ironledger_event_store_append_seconds_count") >= appendsBefore + 3, JSON.stringify(appends.samples))

  // Requests are counted by route pattern, never by the raw path (one series per route, not per node).
  const requests = family(m, "ironledger_http_requests", "counter")
  const total = "ironledger_http_requests_total"
  // At least one GET per settled operation: fake hardware may settle before the first poll.
  assert.ok(valueOf(requests, total, { method: "GET", route: "/v1/nodes/:node", status: "200" }) >= 3)
  assert.equal(valueOf(requests, total, { method: "GET", route: "/v1/nodes/:node", status: "404" }), 1)
  assert.equal(valueOf(requests, total, { method: "POST", route: "/v1/nodes", status: "201" }), 1)
  assert.ok(requests.samples.every((s) => !String(s.labels["route"]).includes("scraped")))
  const durations = family(m, "ironledger_http_request_duration_seconds", "histogram")
  assert.ok(valueOf(durations, "ironledger_http_request_duration_seconds_count", { route: "/v1/nodes/:node/states/provision" }) >= 3)

  assert.ok(family(m, "ironledger_projection_lag_events", "gauge").samples[0]!.value >= 0)
  family(m, "ironledger_hardware_step_failures", "counter")
  family(m, "ironledger_wait_timeouts", "counter")
})

test("a ramdisk wait that runs out is counted by the state it waited in", { timeout: 60_000 }, async () => {
  // Simulated machines whose ramdisk never calls back: cleaning waits, then times out.
  const silent = await startTestService({ hardware: simulatedHardware({ deliver: () => {} }), sim: 1, conductor: { callbackTimeoutMs: 300 } })
  try {
    const api = client(silent.url)
    for (const [target, state] of [["manage", "manageable"], ["provide", "clean failed"]] as const) {
      assert.equal((await api("PUT", "/v1/nodes/sim-00001/states/provision", { target })).status, 202)
      await settleNode(api, "sim-00001", state)
    }
    const r = await api("GET", "/metrics")
    const m = new Map((await parsePrometheusText(r.text)).map((f) => [f.name, f]))
    assert.equal(valueOf(family(m, "ironledger_wait_timeouts", "counter"), "ironledger_wait_timeouts_total", { state: "clean wait" }), 1)
    const steps = family(m, "ironledger_hardware_step_duration_seconds", "histogram")
    assert.ok(valueOf(steps, "ironledger_hardware_step_duration_seconds_count", { driver: "sim" }) >= 2, JSON.stringify(steps.samples))
    assert.equal(valueOf(family(m, "ironledger_nodes_by_provision_state", "gauge"), "ironledger_nodes_by_provision_state", { state: "clean failed" }), 1)
  } finally {
    await silent.close()
  }
})

test("a hardware step that fails is counted by step and hardware type", { timeout: 60_000 }, async () => {
  const svc2 = await startTestService({ hardware: simulatedHardware({ callbackDelayMs: 5 }), sim: 1, conductor: { automatedClean: false } })
  try {
    const api = client(svc2.url)
    for (const [target, state] of [["manage", "manageable"], ["provide", "available"]] as const) {
      assert.equal((await api("PUT", "/v1/nodes/sim-00001/states/provision", { target })).status, 202)
      await settleNode(api, "sim-00001", state)
    }
    await api("PATCH", "/v1/nodes/sim-00001", [{ op: "add", path: "/instance_info/image_source", value: "/nonexistent/image.qcow2" }])
    assert.equal((await api("PUT", "/v1/nodes/sim-00001/states/provision", { target: "active" })).status, 202)
    await settleNode(api, "sim-00001", "deploy failed")
    const m = new Map((await parsePrometheusText((await api("GET", "/metrics")).text)).map((f) => [f.name, f]))
    const failures = family(m, "ironledger_hardware_step_failures", "counter")
    assert.equal(valueOf(failures, "ironledger_hardware_step_failures_total", { step: "ImageWriteRequested", driver: "sim" }), 1, JSON.stringify(failures.samples))
  } finally {
    await svc2.close()
  }
})
