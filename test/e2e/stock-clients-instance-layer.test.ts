// End to end: the instance layer through stock clients against `ironledger serve` as a real
// process: Debian's `baremetal` CLI (node set/unset of each field, node list with each filter,
// allocations, VIFs; description_contains is covered over HTTP: the 5.0.1 CLI's client can not
// send it) and openstacksdk (nodes(details=True), create_allocation, attach_vif_to_node).
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { execFile, spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const root = resolve(import.meta.dirname, "../..")
const ironledger = join(root, "bin/ironledger")

let dir: string
let url: string
let server: ChildProcess | undefined

interface Run { readonly code: number; readonly stdout: string; readonly stderr: string }

const run = (file: string, args: ReadonlyArray<string>, input?: string): Promise<Run> =>
  new Promise((done) => {
    const child = execFile(file, args, { env: { ...process.env, HOME: dir, PATH: "/usr/bin:/bin" }, timeout: 90_000, killSignal: "SIGKILL" },
      (error, stdout, stderr) => done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 128, stdout, stderr }))
    if (input !== undefined) child.stdin!.end(input)
  })

const baremetal = (...args: Array<string>) => run("/usr/bin/baremetal", ["--os-auth-type", "none", "--os-endpoint", url, ...args])
const ok = (r: Run, what: string) => {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}${r.stdout}`)
  return r
}
const json = async (what: string, ...args: Array<string>) => JSON.parse(ok(await baremetal(...args, "-f", "json"), what).stdout)

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "X-OpenStack-Ironic-API-Version": "1.78", ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(5000),
  })
  const text = await res.text()
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text) }
}

const settle = async (name: string, state: string) => {
  for (let i = 0; i < 600; i++) {
    const n = (await api("GET", `/v1/nodes/${name}`)).body
    if (n.provision_state === state && n.target_provision_state === null) return n
    await new Promise((r) => setTimeout(r, 50))
  }
  return assert.fail(`${name} did not reach ${state}`)
}

const available = async (name: string, body: Record<string, unknown>) => {
  const n = await api("POST", "/v1/nodes", { driver: "fake-hardware", name, ...body })
  assert.equal(n.status, 201, JSON.stringify(n.body))
  for (const [target, state] of [["manage", "manageable"], ["provide", "available"]] as const) {
    assert.equal((await api("PUT", `/v1/nodes/${name}/states/provision`, { target })).status, 202)
    await settle(name, state)
  }
  return n.body.uuid as string
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ironledger-stock-"))
  const child = spawn(ironledger, ["serve", "--db", join(dir, "log.db"), "--state-dir", dir, "--port", "0", "--host", "127.0.0.1"], { stdio: ["ignore", "ignore", "pipe"] })
  server = child
  url = await new Promise<string>((ready, reject) => {
    let seen = ""
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${seen}`)), 30_000)
    child.stderr!.on("data", (d: Buffer) => {
      seen += d.toString()
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen)
      if (m) { clearTimeout(timer); ready(m[1]!) }
    })
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`serve exited with ${code}: ${seen}`)) })
  })
})

after(async () => {
  if (server !== undefined && server.exitCode === null) {
    const exited = new Promise((r) => server!.once("exit", r))
    server.kill("SIGTERM")
    const timer = setTimeout(() => server!.kill("SIGKILL"), 10_000)
    await exited
    clearTimeout(timer)
  }
  rmSync(dir, { recursive: true, force: true })
})

test("baremetal: node set/unset of each field, node list with each filter, allocations, VIFs", { timeout: 600_000 }, async () => {
  const uuid = await available("bm-1", { properties: { cpus: 8, memory_mb: 16384, local_gb: 100, cpu_arch: "x86_64" } })
  await available("bm-2", { resource_class: "other" })
  assert.equal((await api("POST", "/v1/nodes", { driver: "fake-hardware", name: "bm-3" })).status, 201)
  const instance = "2f0c6a9e-8d6b-4a44-9c3a-5b2b7f9d1e01"
  ok(await baremetal("node", "set", "bm-1", "--instance-uuid", instance, "--description", "rack 7 slot 3", "--owner", "team-a",
    "--lessee", "team-b", "--resource-class", "bm.large", "--conductor-group", "rack7", "--network-interface", "noop",
    "--no-automated-clean"), "node set")
  ok(await baremetal("node", "set", "bm-3", "--retired", "--retired-reason", "warranty"), "node set --retired")
  const refused = await baremetal("node", "set", "bm-2", "--retired")
  assert.match(refused.stderr, /can not be retired in state "available"/)
  ok(await baremetal("node", "maintenance", "set", "bm-1", "--reason", "disk swap"), "maintenance set")
  const set = await json("node show", "node", "show", "bm-1")
  assert.deepEqual(
    [set.instance_uuid, set.description, set.owner, set.lessee, set.resource_class, set.conductor_group, set.network_interface, set.automated_clean, set.maintenance],
    [instance, "rack 7 slot 3", "team-a", "team-b", "bm.large", "rack7", "noop", false, true],
  )
  for (const [flags, expected] of [
    [["--associated"], ["bm-1"]], [["--unassociated"], ["bm-2", "bm-3"]], [["--maintenance"], ["bm-1"]], [["--retired"], ["bm-3"]],
    [["--no-retired", "--no-maintenance"], ["bm-2"]],
    [["--resource-class", "bm.large"], ["bm-1"]], [["--conductor-group", "rack7"], ["bm-1"]], [["--owner", "team-a"], ["bm-1"]],
    [["--lessee", "team-b"], ["bm-1"]], [["--provision-state", "available", "--driver", "fake-hardware"], ["bm-1", "bm-2"]],
    [["--fault", "power failure"], []],
  ] as const) {
    const rows = await json(`node list ${flags.join(" ")}`, "node", "list", ...flags) as Array<{ Name: string }>
    assert.deepEqual(rows.map((r) => r.Name).sort(), expected, flags.join(" "))
  }
  const fields = await json("node list --fields", "node", "list", "--fields", "uuid", "owner") as Array<Record<string, unknown>>
  assert.ok(fields.some((r) => r["Owner"] === "team-a"))
  ok(await baremetal("node", "unset", "bm-1", "--instance-uuid", "--description", "--owner", "--lessee", "--resource-class",
    "--conductor-group", "--network-interface", "--automated-clean"), "node unset")
  ok(await baremetal("node", "unset", "bm-3", "--retired", "--retired-reason"), "node unset --retired")
  assert.deepEqual([(await api("GET", "/v1/nodes/bm-3")).body.retired, (await api("GET", "/v1/nodes/bm-3")).body.retired_reason], [false, null])
  ok(await baremetal("node", "maintenance", "unset", "bm-1"), "maintenance unset")
  const unset = await json("node show", "node", "show", "bm-1")
  assert.deepEqual([unset.instance_uuid, unset.description, unset.owner, unset.resource_class, unset.conductor_group, unset.automated_clean, unset.maintenance],
    [null, null, null, null, "", null, false])

  ok(await baremetal("node", "add", "trait", "bm-1", "CUSTOM_FAST"), "add trait")
  const created = await json("allocation create", "allocation", "create", "--resource-class", "bm.large", "--trait", "CUSTOM_FAST", "--name", "alloc-1")
  assert.equal(created.state, "error")
  ok(await baremetal("node", "set", "bm-1", "--resource-class", "bm.large"), "set resource class")
  const again = await json("allocation create", "allocation", "create", "--resource-class", "bm.large", "--trait", "CUSTOM_FAST", "--name", "alloc-2", "--wait")
  assert.deepEqual([again.state, again.node_uuid], ["active", uuid])
  const shown = await json("allocation show", "allocation", "show", "alloc-2")
  assert.equal(shown.uuid, again.uuid)
  const listed = await json("allocation list", "allocation", "list") as Array<Record<string, unknown>>
  assert.deepEqual(listed.map((a) => a["UUID"]).sort(), [created.uuid, again.uuid].sort())
  assert.equal((await json("node show", "node", "show", "bm-1")).instance_uuid, again.uuid)
  ok(await baremetal("allocation", "delete", "alloc-2"), "allocation delete")
  assert.equal((await json("node show", "node", "show", "bm-1")).allocation_uuid, null)

  assert.equal((await api("POST", "/v1/ports", { address: "52:54:00:cc:00:01", node_uuid: uuid })).status, 201)
  ok(await baremetal("node", "vif", "attach", "bm-1", "vif-7"), "vif attach")
  const vifs = await json("vif list", "node", "vif", "list", "bm-1") as Array<Record<string, unknown>>
  assert.deepEqual(vifs.map((v) => v["ID"]), ["vif-7"])
  ok(await baremetal("node", "vif", "detach", "bm-1", "vif-7"), "vif detach")
  assert.deepEqual(await json("vif list", "node", "vif", "list", "bm-1"), [])
})

test("openstacksdk: nodes(details=True), create_allocation, attach_vif_to_node", { timeout: 120_000 }, async () => {
  const uuid = await available("sdk-1", { resource_class: "sdk" })
  assert.equal((await api("POST", "/v1/ports", { address: "52:54:00:cc:00:02", node_uuid: uuid })).status, 201)
  const script = `
import json, sys, openstack
conn = openstack.connect(auth_type="none", baremetal_endpoint_override=sys.argv[1], baremetal_api_version="1.78")
nodes = {n.name: n for n in conn.baremetal.nodes(details=True)}
node = nodes["sdk-1"]
alloc = conn.baremetal.create_allocation(resource_class="sdk", name="sdk-alloc")
alloc = conn.baremetal.wait_for_allocation(alloc, timeout=30)
conn.baremetal.attach_vif_to_node(node, "sdk-vif")
vifs = conn.baremetal.list_node_vifs(node)
print(json.dumps({"resource_class": node.resource_class, "provision_state": node.provision_state,
  "allocation": alloc.state, "allocation_node": alloc.node_id, "vifs": vifs}))
`
  const r = ok(await run("/usr/bin/python3", ["-c", script, url]), "openstacksdk")
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!)
  assert.deepEqual(out, { resource_class: "sdk", provision_state: "available", allocation: "active", allocation_node: uuid, vifs: ["sdk-vif"] })
  const port = (await api("GET", `/v1/nodes/${uuid}/ports/detail`)).body.ports[0]
  assert.deepEqual(port.internal_info, { tenant_vif_port_id: "sdk-vif" })
})
