// End to end: the instance layer through stock clients against `ironledger serve` as a real
// process: Debian's `baremetal` CLI (node set/unset of each field, node list with each filter,
// allocations, VIFs, node deploy --config-drive; description_contains is covered over HTTP: the
// 5.0.1 CLI's client can not send it) and openstacksdk (nodes(details=True), create_allocation,
// attach_vif_to_node, set_node_provision_state with a config drive). Each `baremetal` run costs a
// Python start-up (1-2 s): list filters are checked in pairs that each filter narrows, read-only
// runs go in parallel, and what the CLI has already shown is checked over HTTP afterwards.
// The later API versions the CLI has commands for: deploy templates (1.55), node deploy
// --deploy-steps (1.69), allocation set (1.57), driver list --fields (1.77).
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

import { configDriveOn, wholeDiskImage } from "./config-drive-on-disk.ts"
import { startServeProcess, type ServeProcess } from "../support/serve-process.ts"
import { client, settleNode } from "../adapters/http-harness.ts"


let dir: string
let url: string
const api = (method: string, path: string, body?: unknown) => client(url)(method, path, body)
const settle = (name: string, state: string) => settleNode(api, name, state, 30_000)
let server: ServeProcess | undefined

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

const available = async (name: string, body: Record<string, unknown>, mac?: string) => {
  const n = await api("POST", "/v1/nodes", { driver: "fake-hardware", name, ...body })
  assert.equal(n.status, 201, JSON.stringify(n.body))
  if (mac !== undefined) assert.equal((await api("POST", "/v1/ports", { address: mac, node_uuid: n.body.uuid })).status, 201)
  for (const [target, state] of [["manage", "manageable"], ["provide", "available"]] as const) {
    assert.equal((await api("PUT", `/v1/nodes/${name}/states/provision`, { target })).status, 202)
    await settle(name, state)
  }
  return n.body.uuid as string
}

/** A simulated machine (a disk file) with a whole-disk image to deploy: where a config drive lands. */
const simAvailable = async (name: string, mac: string) => {
  const image = wholeDiskImage(join(dir, `${name}.img`))
  return available(name, { driver: "sim", instance_info: { image_source: `file://${image}` } }, mac)
}

/** The meta_data of the config-2 filesystem on the node's simulated disk (beside the database). */
const metaOnDisk = (uuid: string) => configDriveOn(join(dir, "log.db.disks", `${uuid}.img`), dir)

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ironledger-stock-"))
  server = await startServeProcess(["--db", join(dir, "log.db"), "--state-dir", dir])
  url = server.url
})

after(async () => {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

test("baremetal: node set/unset of each field, node list with each filter, allocations, VIFs", { timeout: 600_000 }, async () => {
  const uuid = await available("bm-1", { properties: { cpus: 8, memory_mb: 16384, local_gb: 100, cpu_arch: "x86_64" } })
  await available("bm-2", { resource_class: "other", owner: "team-a", conductor_group: "rack7" })
  assert.equal((await api("POST", "/v1/nodes", { driver: "fake-hardware", name: "bm-3", lessee: "team-b", resource_class: "bm.large" })).status, 201)
  const instance = "2f0c6a9e-8d6b-4a44-9c3a-5b2b7f9d1e01"
  const [setOne, setThree, refused] = await Promise.all([
    baremetal("node", "set", "bm-1", "--instance-uuid", instance, "--description", "rack 7 slot 3", "--owner", "team-a",
      "--lessee", "team-b", "--resource-class", "bm.large", "--conductor-group", "rack7", "--network-interface", "noop",
      "--no-automated-clean"),
    baremetal("node", "set", "bm-3", "--retired", "--retired-reason", "warranty"),
    baremetal("node", "set", "bm-2", "--retired"),
  ])
  ok(setOne, "node set")
  ok(setThree, "node set --retired")
  assert.match(refused.stderr, /can not be retired in state "available"/)
  ok(await baremetal("node", "maintenance", "set", "bm-1", "--reason", "disk swap"), "maintenance set")
  const set = await json("node show", "node", "show", "bm-1")
  assert.deepEqual(
    [set.instance_uuid, set.description, set.owner, set.lessee, set.resource_class, set.conductor_group, set.network_interface, set.automated_clean, set.maintenance],
    [instance, "rack 7 slot 3", "team-a", "team-b", "bm.large", "rack7", "noop", false, true],
  )
  // Paired filters, each pair narrowed by both: bm-2 shares bm-1's owner and conductor group,
  // bm-3 its lessee and resource class, so an ignored filter lets one of them in.
  const lists: ReadonlyArray<readonly [ReadonlyArray<string>, ReadonlyArray<string>]> = [
    [["--unassociated"], ["bm-2", "bm-3"]], [["--no-retired", "--no-maintenance"], ["bm-2"]],
    [["--resource-class", "bm.large", "--conductor-group", "rack7"], ["bm-1"]], [["--owner", "team-a", "--lessee", "team-b"], ["bm-1"]],
    [["--provision-state", "available", "--driver", "fake-hardware"], ["bm-1", "bm-2"]], [["--fault", "power failure"], []],
  ]
  const [fields, ...listed] = await Promise.all([
    json("node list --fields", "node", "list", "--fields", "uuid", "owner", "maintenance", "retired") as Promise<Array<Record<string, unknown>>>,
    ...lists.map(([flags]) => json(`node list ${flags.join(" ")}`, "node", "list", ...flags) as Promise<Array<{ Name: string }>>),
  ])
  lists.forEach(([flags, expected], i) => assert.deepEqual(listed[i]!.map((r) => r.Name).sort(), expected, flags.join(" ")))
  assert.deepEqual(fields.filter((r) => r["Owner"] === "team-a").map((r) => [r["Maintenance"], r["Retired"]]).sort(), [[false, false], [true, false]])

  const unsets = await Promise.all([
    baremetal("node", "unset", "bm-1", "--instance-uuid", "--description", "--owner", "--lessee", "--resource-class",
      "--conductor-group", "--network-interface", "--automated-clean"),
    baremetal("node", "unset", "bm-3", "--retired", "--retired-reason"),
  ])
  ok(unsets[0]!, "node unset")
  ok(unsets[1]!, "node unset --retired")
  ok(await baremetal("node", "maintenance", "unset", "bm-1"), "maintenance unset")
  const three = (await api("GET", "/v1/nodes/bm-3")).body
  assert.deepEqual([three.retired, three.retired_reason], [false, null])
  const unset = (await api("GET", "/v1/nodes/bm-1")).body
  assert.deepEqual([unset.instance_uuid, unset.description, unset.owner, unset.resource_class, unset.conductor_group, unset.automated_clean, unset.maintenance],
    [null, null, null, null, "", null, false])

  ok(await baremetal("node", "add", "trait", "bm-1", "CUSTOM_FAST"), "add trait")
  const created = await json("allocation create", "allocation", "create", "--resource-class", "bm.large", "--trait", "CUSTOM_FAST", "--name", "alloc-1")
  assert.equal(created.state, "error")
  assert.equal((await api("PATCH", "/v1/nodes/bm-1", [{ op: "add", path: "/resource_class", value: "bm.large" }])).status, 200)
  const again = await json("allocation create", "allocation", "create", "--resource-class", "bm.large", "--trait", "CUSTOM_FAST", "--name", "alloc-2", "--wait")
  assert.deepEqual([again.state, again.node_uuid], ["active", uuid])
  const [shown, allocations] = await Promise.all([json("allocation show", "allocation", "show", "alloc-2"), json("allocation list", "allocation", "list")])
  assert.equal(shown.uuid, again.uuid)
  assert.deepEqual((allocations as Array<Record<string, unknown>>).map((a) => a["UUID"]).sort(), [created.uuid, again.uuid].sort())
  assert.equal((await api("GET", "/v1/nodes/bm-1")).body.instance_uuid, again.uuid)
  ok(await baremetal("allocation", "delete", "alloc-2"), "allocation delete")
  assert.equal((await api("GET", "/v1/nodes/bm-1")).body.allocation_uuid, null)

  assert.equal((await api("POST", "/v1/ports", { address: "52:54:00:cc:00:01", node_uuid: uuid })).status, 201)
  ok(await baremetal("node", "vif", "attach", "bm-1", "vif-7"), "vif attach")
  const vifs = await json("vif list", "node", "vif", "list", "bm-1") as Array<Record<string, unknown>>
  assert.deepEqual(vifs.map((v) => v["ID"]), ["vif-7"])
  ok(await baremetal("node", "vif", "detach", "bm-1", "vif-7"), "vif detach")
  assert.deepEqual((await api("GET", "/v1/nodes/bm-1/vifs")).body.vifs, [])
})

test("baremetal node deploy --config-drive, a JSON string and a directory: config-2 with the meta_data on the disk", { timeout: 300_000 }, async () => {
  const [fromJson, fromDir] = await Promise.all([simAvailable("cd-json", "52:54:00:cc:01:01"), simAvailable("cd-dir", "52:54:00:cc:01:02")])
  const tree = join(dir, "drive", "openstack", "latest")
  mkdirSync(tree, { recursive: true })
  writeFileSync(join(tree, "meta_data.json"), JSON.stringify({ uuid: "5b1e0c52-3c1a-4d9e-9f00-0000000000d1", hostname: "cd-dir" }))
  writeFileSync(join(tree, "user_data"), "#cloud-config\nhostname: cd-dir\n")
  const drive = { meta_data: { uuid: "5b1e0c52-3c1a-4d9e-9f00-0000000000a1" }, user_data: "#cloud-config\nhostname: cd-json\n" }
  const deployed = await Promise.all([
    baremetal("node", "deploy", "cd-json", "--config-drive", JSON.stringify(drive), "--wait", "120"),
    baremetal("node", "deploy", "cd-dir", "--config-drive", join(dir, "drive"), "--wait", "120"),
  ])
  ok(deployed[0]!, "node deploy --config-drive JSON")
  ok(deployed[1]!, "node deploy --config-drive DIR")
  const seenJson = metaOnDisk(fromJson)
  assert.deepEqual([seenJson.meta["uuid"], seenJson.meta["name"], seenJson.userData], [drive.meta_data.uuid, "cd-json", drive.user_data])
  const seenDir = metaOnDisk(fromDir)
  assert.deepEqual([seenDir.meta["uuid"], seenDir.meta["hostname"], seenDir.userData], ["5b1e0c52-3c1a-4d9e-9f00-0000000000d1", "cd-dir", "#cloud-config\nhostname: cd-dir\n"])
})

test("openstacksdk: nodes(details=True), create_allocation, attach_vif_to_node, set_node_provision_state with a config drive", { timeout: 300_000 }, async () => {
  const [uuid, dictNode, isoNode] = await Promise.all([
    available("sdk-1", { resource_class: "sdk" }, "52:54:00:cc:00:02"),
    simAvailable("sdk-cd-dict", "52:54:00:cc:02:01"),
    simAvailable("sdk-cd-iso", "52:54:00:cc:02:02"),
  ])
  // One Python process for every openstacksdk call: the dict is sent as JSON (API 1.56+), the
  // built drive as openstacksdk packs it (genisoimage, gzip, base64).
  const script = `
import json, sys, openstack
from openstack.baremetal import configdrive
conn = openstack.connect(auth_type="none", baremetal_endpoint_override=sys.argv[1], baremetal_api_version="1.78")
nodes = {n.name: n for n in conn.baremetal.nodes(details=True)}
node = nodes["sdk-1"]
alloc = conn.baremetal.create_allocation(resource_class="sdk", name="sdk-alloc")
alloc = conn.baremetal.wait_for_allocation(alloc, timeout=30)
conn.baremetal.attach_vif_to_node(node, "sdk-vif")
vifs = conn.baremetal.list_node_vifs(node)
conn.baremetal.set_node_provision_state("sdk-cd-dict", "active", config_drive={"meta_data": {"uuid": "5b1e0c52-3c1a-4d9e-9f00-0000000000b1"}})
iso = configdrive.build({"uuid": "5b1e0c52-3c1a-4d9e-9f00-0000000000b2"}, user_data=b"#cloud-config\\n")
conn.baremetal.set_node_provision_state("sdk-cd-iso", "active", config_drive=iso)
deployed = conn.baremetal.wait_for_nodes_provision_state(["sdk-cd-dict", "sdk-cd-iso"], "active", timeout=120)
print(json.dumps({"resource_class": node.resource_class, "provision_state": node.provision_state,
  "allocation": alloc.state, "allocation_node": alloc.node_id, "vifs": vifs,
  "deployed": sorted(n.provision_state for n in deployed)}))
`
  const r = ok(await run("/usr/bin/python3", ["-c", script, url]), "openstacksdk")
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!)
  assert.deepEqual(out, {
    resource_class: "sdk", provision_state: "available", allocation: "active", allocation_node: uuid, vifs: ["sdk-vif"],
    deployed: ["active", "active"],
  })
  const port = (await api("GET", `/v1/nodes/${uuid}/ports/detail`)).body.ports[0]
  assert.deepEqual(port.internal_info, { tenant_vif_port_id: "sdk-vif" })
  assert.equal(metaOnDisk(dictNode).meta["uuid"], "5b1e0c52-3c1a-4d9e-9f00-0000000000b1")
  const built = metaOnDisk(isoNode)
  assert.deepEqual([built.meta["uuid"], built.userData], ["5b1e0c52-3c1a-4d9e-9f00-0000000000b2", "#cloud-config\n"])
})

test("baremetal: deploy templates, node deploy --deploy-steps, allocation set, driver list --fields", { timeout: 300_000 }, async () => {
  const uuid = await available("dt-1", {})
  assert.equal((await api("PUT", "/v1/nodes/dt-1/traits/CUSTOM_CLI_RESET")).status, 204)
  assert.equal((await api("PATCH", "/v1/nodes/dt-1", [{ op: "add", path: "/instance_info/traits", value: ["CUSTOM_CLI_RESET"] }])).status, 200)
  const [template, failed] = await Promise.all([
    json("deploy template create", "deploy", "template", "create", "CUSTOM_CLI_RESET", "--extra", "team=a",
      "--steps", JSON.stringify([{ interface: "bios", step: "factory_reset", args: {}, priority: 150 }])),
    json("allocation create", "allocation", "create", "--resource-class", "no-such-class", "--name", "cli-alloc"),
  ])
  assert.equal(template.name, "CUSTOM_CLI_RESET")
  assert.equal(failed.state, "error")
  const apply = [{ interface: "bios", step: "apply_configuration", args: { settings: [{ name: "NumLock", value: "Off" }] }, priority: 90 }]
  const [listed, shown, setAlloc, drivers, deployed] = await Promise.all([
    json("deploy template list", "deploy", "template", "list"),
    json("deploy template show", "deploy", "template", "show", "CUSTOM_CLI_RESET"),
    baremetal("allocation", "set", "cli-alloc", "--name", "cli-alloc-2", "--extra", "note=x"),
    json("driver list --fields", "driver", "list", "--fields", "name"),
    baremetal("node", "deploy", "dt-1", "--deploy-steps", JSON.stringify(apply), "--wait", "60"),
  ])
  assert.ok((listed as Array<Record<string, unknown>>).some((x) => x["Name"] === "CUSTOM_CLI_RESET"), JSON.stringify(listed))
  assert.deepEqual([shown.steps, shown.extra], [[{ interface: "bios", step: "factory_reset", args: {}, priority: 150 }], { team: "a" }])
  ok(setAlloc, "allocation set")
  assert.ok((drivers as Array<Record<string, unknown>>).some((d) => d["Name"] === "fake-hardware"), JSON.stringify(drivers))
  ok(deployed, "node deploy --deploy-steps")
  const alloc = (await api("GET", `/v1/allocations/${failed.uuid}`)).body
  assert.deepEqual([alloc.name, alloc.extra], ["cli-alloc-2", { note: "x" }])
  const history = (await api("GET", `/v1/nodes/${uuid}/history?limit=200`)).body.history as Array<{ event: string }>
  const steps = history.map((h) => h.event).filter((e) => e.startsWith("deploy step"))
  assert.deepEqual(steps, ["deploy step bios.factory_reset requested (out-of-band)", "deploy step bios.apply_configuration requested (out-of-band)"])
  const unknown = await baremetal("node", "rebuild", "dt-1", "--deploy-steps", JSON.stringify([{ interface: "raid", step: "create_configuration", args: {}, priority: 10 }]))
  assert.notEqual(unknown.code, 0)
  assert.match(unknown.stderr, /raid\.create_configuration are not offered/)
  ok(await baremetal("deploy", "template", "delete", "CUSTOM_CLI_RESET"), "deploy template delete")
  assert.equal((await api("GET", "/v1/deploy_templates/CUSTOM_CLI_RESET")).status, 404)
})
