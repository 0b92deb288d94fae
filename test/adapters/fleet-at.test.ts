// The fleet at past instants (GET /v1/fleet?at=T, `ironledger fleet --at T`) equals what the live
// projection showed at those instants: the test captures the service's own node list as the fleet
// changes (enroll, manage, provide, deploy with an instance, maintenance, undeploy, delete), and
// afterwards asks for each instant.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { simulatedHardware } from "../../src/cli/hardware.ts"
import { client, startTestService, settleNode, type TestService } from "./http-harness.ts"

let svc: TestService
let call: ReturnType<typeof client>
before(async () => {
  svc = await startTestService({ hardware: simulatedHardware({ callbackDelayMs: 5 }) })
  call = client(svc.url)
})
after(async () => { await svc?.close() })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface NodeAt {
  readonly uuid: string
  readonly name: string | null
  readonly provision_state: string
  readonly power_state: string | null
  readonly maintenance: boolean
  readonly instance_uuid: string | null
}

/** The live projection as the API shows it now. */
const liveNodes = async (): Promise<Array<NodeAt>> => {
  const nodes = (await call("GET", "/v1/nodes/detail")).body.nodes as Array<Record<string, unknown>>
  return nodes.map((n) => ({
    uuid: n["uuid"] as string, name: n["name"] as string | null, provision_state: n["provision_state"] as string,
    power_state: n["power_state"] as string | null, maintenance: n["maintenance"] as boolean,
    instance_uuid: n["instance_uuid"] as string | null,
  })).sort((a, b) => (a.uuid < b.uuid ? -1 : 1))
}

/** A snapshot of the live projection and the instant it holds at: nothing changed around it. */
const capture = async () => {
  for (;;) {
    const before = await liveNodes()
    await sleep(3)
    const at = new Date().toISOString()
    await sleep(3)
    const after = await liveNodes()
    if (JSON.stringify(before) === JSON.stringify(after)) return { at, nodes: before }
  }
}

const settle = (name: string, state: string) => settleNode(call, name, state)

const provision = async (name: string, target: string, state: string) => {
  assert.equal((await call("PUT", `/v1/nodes/${name}/states/provision`, { target })).status, 202)
  await settle(name, state)
}

test("fleet at T equals the live projection captured at T, through the API and the CLI", { timeout: 120_000 }, async () => {
  const snapshots = [await capture()]
  const names = ["fa-1", "fa-2", "fa-3"]
  for (const [i, name] of names.entries()) {
    await call("POST", "/v1/nodes", { driver: "fake-hardware", name })
    await call("POST", "/v1/ports", { address: `52:54:00:fa:00:0${i}`, node_uuid: (await call("GET", `/v1/nodes/${name}`)).body.uuid })
  }
  snapshots.push(await capture())
  for (const name of names) await provision(name, "manage", "manageable")
  snapshots.push(await capture())
  await provision("fa-1", "provide", "available")
  await provision("fa-2", "provide", "available")
  snapshots.push(await capture())
  await call("PATCH", "/v1/nodes/fa-1", [{ op: "add", path: "/instance_info/instance_uuid", value: "6f1c2a3e-0000-4000-8000-00000000fa01" }])
  await provision("fa-1", "active", "active")
  await call("PUT", "/v1/nodes/fa-3/maintenance", { reason: "fan" })
  snapshots.push(await capture())
  await provision("fa-1", "deleted", "available")
  await call("DELETE", "/v1/nodes/fa-3/maintenance")
  await call("DELETE", "/v1/nodes/fa-2")
  snapshots.push(await capture())

  const states = new Set(snapshots.flatMap((s) => s.nodes.map((n) => n.provision_state)))
  assert.ok(["enroll", "manageable", "available", "active"].every((s) => states.has(s)), [...states].join(","))
  assert.ok(snapshots.some((s) => s.nodes.some((n) => n.instance_uuid !== null && n.provision_state === "active")))
  assert.ok(snapshots.some((s) => s.nodes.some((n) => n.maintenance)))

  for (const snapshot of snapshots) {
    const then = await call("GET", `/v1/fleet?at=${encodeURIComponent(snapshot.at)}`)
    assert.equal(then.status, 200, then.text)
    assert.deepEqual(then.body.nodes, snapshot.nodes, `the fleet at ${snapshot.at}`)
    const counts: Record<string, number> = {}
    for (const n of snapshot.nodes) counts[n.provision_state] = (counts[n.provision_state] ?? 0) + 1
    assert.deepEqual(then.body.counts_by_state, counts)
  }

  // The CLI, through the API and straight from the log file.
  const middle = snapshots[4]!
  for (const where of [["--url", svc.url], ["--db", svc.db]]) {
    // Asynchronously: the service answering it runs in this process.
    const cli = await promisify(execFile)("bin/ironledger", ["fleet", "--at", middle.at, "--json", ...where], { encoding: "utf8" })
    assert.deepEqual(JSON.parse(cli.stdout).nodes, middle.nodes)
  }
  const bad = await call("GET", "/v1/fleet?at=yesterday")
  assert.equal(bad.status, 400)
})

test("the fleet at T is behind the same auth as everything else: readers may, strangers may not", async () => {
  const guarded = await startTestService({ auth: { mode: "token", tokens: [{ user: "audit", role: "reader", token: "reader-token" }] } })
  try {
    const stranger = await client(guarded.url)("GET", "/v1/fleet")
    assert.equal(stranger.status, 401)
    const reader = await client(guarded.url, { "X-Auth-Token": "reader-token" })("GET", "/v1/fleet")
    assert.equal(reader.status, 200, reader.text)
    assert.deepEqual(reader.body.nodes, [])
  } finally {
    await guarded.close()
  }
})
