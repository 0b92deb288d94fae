// Discovery over HTTP (ADR 0090), with simulated machines' inventories (the shape the real agent
// posts): off, the endpoint is a 404; on, an unknown machine's post makes a node in enroll marked
// auto_discovered, with the inventory's properties, a port per MAC and its BMC address; the same
// machine again, or one some node owns, changes nothing and gets the same answer; 20 concurrent
// posts of one machine from 20 addresses make one node; bad, huge and too many posts are refused;
// with auto-enroll the node gets the default driver_info (secrets sealed) and is managed.
import { request } from "node:http"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { makeFsImageStore } from "../../src/adapters/images/fs-image-store.ts"
import { writeDefaultDeployImages } from "../../src/adapters/ramdisk/build/register.ts"
import { tftpRootOf } from "../../src/adapters/netboot/index.ts"
import { after, test } from "node:test"
import assert from "node:assert/strict"
import { defaultSimMachine, simInventory } from "../../src/adapters/sim/inventory.ts"
import { client, startTestService, type TestService } from "./http-harness.ts"
import type { DiscoverySettings } from "../../src/application/discovery/settings.ts"

const GiB = 1024 ** 3
const services: Array<TestService> = []
after(async () => { for (const s of services) await s.close() })

const start = async (discovery?: DiscoverySettings) => {
  const s = await startTestService({ ...(discovery === undefined ? {} : { discovery }), notary: false })
  services.push(s)
  return { s, api: client(s.url) }
}

/** A simulated machine's inventory with its BMC's address, as the discovery ramdisk posts it. */
const machine = (id: string, macs: ReadonlyArray<string>, bmc: string | null = "10.20.0.7") => ({
  ...simInventory({ ...defaultSimMachine(id, 8 * GiB, macs), cpus: 4, memoryMb: 6144 }),
  ...(bmc === null ? {} : { bmc_address: bmc }),
})

/** POST from a given loopback source address (fetch cannot choose one). */
const postFrom = (url: string, localAddress: string, body: unknown) => new Promise<number>((resolve, reject) => {
  const data = Buffer.from(JSON.stringify(body))
  const req = request(`${url}/v1/continue_inspection`, {
    method: "POST", localAddress, headers: { "Content-Type": "application/json", "Content-Length": String(data.length) },
  }, (res) => { res.resume(); res.on("end", () => resolve(res.statusCode!)) })
  req.on("error", reject)
  req.end(data)
})

const nodesWithMac = async (api: ReturnType<typeof client>, mac: string) =>
  (await api("GET", `/v1/ports/detail?address=${mac}`)).body.ports as Array<{ node_uuid: string }>

test("discovery off: the endpoint answers 404 and makes nothing", async () => {
  const { api } = await start()
  const r = await api("POST", "/v1/continue_inspection", { inventory: machine("off", ["52:54:00:d0:00:01"]) })
  assert.equal(r.status, 404)
  assert.equal((await api("GET", "/v1/nodes")).body.nodes.length, 0)
})

test("an unknown machine becomes a node in enroll, marked discovered, with its properties, ports and BMC address; again it changes nothing", async () => {
  const { s, api } = await start({ enabled: true, autoEnroll: false, driver: "ipmi", driverInfo: {} })
  const macs = ["52:54:00:d1:00:01", "52:54:00:d1:00:02"]
  const post = { inventory: machine("m1", macs), root_disk: "sda" }
  const first = await api("POST", "/v1/continue_inspection", post)
  assert.equal(first.status, 202, first.text)
  assert.equal(first.text, "")
  const nodes = (await api("GET", "/v1/nodes?detail=true")).body.nodes as Array<Record<string, any>>
  assert.equal(nodes.length, 1)
  const n = nodes[0]!
  assert.equal(n["provision_state"], "enroll")
  assert.equal(n["driver"], "ipmi")
  assert.equal(n["driver_internal_info"].auto_discovered, true)
  assert.equal(n["driver_internal_info"].auto_enrolled, false)
  assert.deepEqual(n["driver_info"], { ipmi_address: "10.20.0.7" })
  assert.deepEqual(n["properties"], { cpus: 4, cpu_arch: "x86_64", memory_mb: 6144, local_gb: 8 })
  const ports = (await api("GET", `/v1/ports?node=${n["uuid"]}`)).body.ports as Array<{ address: string }>
  assert.deepEqual(ports.map((p) => p.address).sort(), macs)
  const history = (await api("GET", `/v1/nodes/${n["uuid"]}/history/detail`)).body
  const types = (history.history ?? history.events ?? history).map((e: { type?: string; event?: string }) => e.type ?? e.event)
  assert.deepEqual(types.slice(0, 3), ["Enrolled", "Discovered", "InventoryReceived"])

  // The same machine again (one MAC in common is enough), and a machine an enrolled node owns.
  const again = await api("POST", "/v1/continue_inspection", { inventory: machine("m1", [macs[1]!, "52:54:00:d1:00:09"]) })
  assert.equal(again.status, 202)
  assert.equal(again.text, first.text)
  const enrolled = await api("POST", "/v1/nodes", { driver: "fake-hardware", name: "known" })
  await api("POST", "/v1/ports", { node_uuid: enrolled.body.uuid, address: "52:54:00:d1:00:30" })
  const knownBefore = (await api("GET", `/v1/nodes/known`)).body
  const owned = await api("POST", "/v1/continue_inspection", { inventory: machine("k", ["52:54:00:d1:00:30"]) })
  assert.equal(owned.status, 202)
  assert.equal(owned.text, first.text)
  assert.equal((await api("GET", `/v1/nodes/known`)).body.updated_at, knownBefore.updated_at)
  assert.equal((await api("GET", "/v1/nodes")).body.nodes.length, 2)
  assert.equal((await nodesWithMac(api, "52:54:00:d1:00:09")).length, 0)

  // A discovered node can be deleted like any node in enroll; its machine is then unknown again.
  assert.equal((await api("DELETE", `/v1/nodes/${n["uuid"]}`)).status, 204)
  assert.equal((await api("POST", "/v1/continue_inspection", post)).status, 202)
  assert.equal((await nodesWithMac(api, macs[0]!)).length, 1)
  const rediscovered = (await nodesWithMac(api, macs[0]!))[0]!.node_uuid
  assert.match(rediscovered, /^[0-9a-f-]{36}$/)
  assert.notEqual(rediscovered, n["uuid"])
  void s
})

test("20 concurrent posts of one machine from 20 addresses make exactly one node", async () => {
  const { s, api } = await start({ enabled: true, autoEnroll: false, driver: "ipmi", driverInfo: {} })
  const macs = ["52:54:00:d2:00:01", "52:54:00:d2:00:02"]
  const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    // Each post names the machine by a different subset of its MACs, as NICs come up in any order.
    postFrom(s.url, `127.0.0.${i + 2}`, { inventory: machine("race", i % 2 === 0 ? macs : [macs[i % 3 === 0 ? 0 : 1]!]) })))
  assert.deepEqual([...new Set(statuses)], [202])
  const nodes = (await api("GET", "/v1/nodes")).body.nodes
  assert.equal(nodes.length, 1)
  for (const mac of macs) assert.ok((await nodesWithMac(api, mac)).length <= 1)
})

test("bad, huge and too many posts are refused before anything is recorded", async () => {
  const { s, api } = await start({ enabled: true, autoEnroll: false, driver: "ipmi", driverInfo: {} })
  const bad = await postFrom(s.url, "127.0.1.1", { inventory: { cpu: { count: 0, architecture: "x86_64" }, memory: { physical_mb: 1 }, disks: [], interfaces: [] } })
  assert.equal(bad, 400)
  const noNic = await postFrom(s.url, "127.0.1.2", { inventory: { ...machine("x", ["52:54:00:d3:00:01"]), interfaces: [] } })
  assert.equal(noNic, 400)
  const huge = await postFrom(s.url, "127.0.1.3", { inventory: machine("x", ["52:54:00:d3:00:02"]), padding: "x".repeat(70 * 1024) })
  assert.equal(huge, 413)
  // A BMC address that is no address (a host name, loopback) is left out; the machine is still taken.
  assert.equal(await postFrom(s.url, "127.0.1.4", { inventory: machine("lo", ["52:54:00:d3:00:03"], "127.0.0.1") }), 202)
  assert.equal(await postFrom(s.url, "127.0.1.4", { inventory: machine("host", ["52:54:00:d3:00:04"], "bmc.example.com") }), 202)
  const infos = ((await api("GET", "/v1/nodes?detail=true")).body.nodes as Array<Record<string, any>>).map((n) => n["driver_info"])
  assert.deepEqual(infos, [{}, {}])
  // Five posts a source may make at once; the sixth waits.
  const statuses: Array<number> = []
  for (let i = 0; i < 6; i++) statuses.push(await postFrom(s.url, "127.0.1.9", { inventory: machine("rl", ["52:54:00:d3:00:10"]) }))
  assert.deepEqual(statuses, [202, 202, 202, 202, 202, 429])
  const limited = await fetch(`${s.url}/v1/continue_inspection`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })
  // fetch comes from 127.0.0.1: its own bucket, so this one is judged on its body.
  assert.equal(limited.status, 400)
})

test("auto-enroll: the node gets the default driver_info, its secrets sealed, and is managed at once", async () => {
  const { api } = await start({ enabled: true, autoEnroll: true, driver: "fake-hardware", driverInfo: { ipmi_username: "admin", ipmi_password: "s3cret-pw" } })
  assert.equal((await api("POST", "/v1/continue_inspection", { inventory: machine("ae", ["52:54:00:d4:00:01"]) })).status, 202)
  let n: Record<string, any> = {}
  for (let i = 0; i < 100; i++) {
    n = ((await api("GET", "/v1/nodes?detail=true")).body.nodes as Array<Record<string, any>>)[0]!
    if (n["provision_state"] === "manageable") break
    await new Promise((r) => setTimeout(r, 50))
  }
  assert.equal(n["provision_state"], "manageable")
  assert.equal(n["driver_internal_info"].auto_enrolled, true)
  assert.deepEqual(n["driver_info"], { ipmi_username: "admin", ipmi_password: "******" })
  assert.equal(n["properties"].cpus, 4)
})

test("serve with a state directory writes the discovery PXE config; without deploy images it says why there is none", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ironledger-discovery-state-"))
  try {
    const discovery: DiscoverySettings = { enabled: true, autoEnroll: false, driver: "ipmi", driverInfo: {} }
    const said: Array<string> = []
    const bare = await startTestService({ stateDir: dir, discovery, notary: false, say: (l) => said.push(l) })
    await bare.close()
    assert.ok(said.some((l) => /no discovery boot: discovery needs default deploy images \(ironledger ramdisk build\)/.test(l)), said.join("\n"))
    const images = join(dir, "images")
    const store = await makeFsImageStore({ root: images })
    for (const f of ["k", "r", "a"]) writeFileSync(join(dir, f), `${f}-bytes`)
    const id = async (f: string) => (await Effect.runPromise(store.importFile(join(dir, f)))).id
    await writeDefaultDeployImages(images, { kernel: await id("k"), ramdisk: await id("r"), ipmiAddon: await id("a") })
    const s = await startTestService({ stateDir: dir, discovery, notary: false })
    services.push(s)
    const config = readFileSync(join(tftpRootOf(dir), "pxelinux.cfg", "default"), "utf8")
    assert.match(config, new RegExp(`ironledger_mode=discover ironic_api_url=${s.url}`))
    assert.equal(readFileSync(join(tftpRootOf(dir), "discovery", "ipmi_addon"), "utf8"), "a-bytes")
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("without auto-enroll the default driver_info gives where the BMC listens (its port), never its credentials", async () => {
  const { api } = await start({ enabled: true, autoEnroll: false, driver: "ipmi", driverInfo: { ipmi_port: 6230, ipmi_username: "admin", ipmi_password: "s3cret-pw" } })
  assert.equal((await api("POST", "/v1/continue_inspection", { inventory: machine("pt", ["52:54:00:d5:00:01"], "10.20.0.9") })).status, 202)
  const n = ((await api("GET", "/v1/nodes?detail=true")).body.nodes as Array<Record<string, any>>)[0]!
  assert.deepEqual(n["driver_info"], { ipmi_address: "10.20.0.9", ipmi_port: 6230 })
})
