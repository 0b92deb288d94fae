// Inspection over HTTP on simulated machines (ADR 0058): manage -> inspect boots the simulated
// ramdisk, which posts the machine's inventory with the inspection's key; the node's properties
// and ports follow it, the change is in the history, the inventory is stored; a ramdisk that never
// posts times out of inspect wait; a wrong key or a bad inventory is refused.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { simulatedHardware } from "../../src/cli/hardware.ts"
import type { SimMachineSpec } from "../../src/adapters/sim/inventory.ts"
import { client, settleNode, startTestService, type TestService } from "./http-harness.ts"

const GiB = 1024 ** 3
const machine: SimMachineSpec = {
  cpus: 6, arch: "x86_64", memoryMb: 12288,
  disks: [
    { name: "sda", bytes: 40 * GiB, model: "BIG", serial: "S-BIG", wwn: "0x5000c500aaaa0001", rotational: true },
    { name: "sdb", bytes: 12 * GiB + 5, model: "SMALL", serial: "S-SMALL", wwn: null, rotational: false },
    { name: "sdc", bytes: 2 * GiB, model: "TINY", serial: "S-TINY", wwn: null, rotational: false },
  ],
  nics: [{ name: "eth0", mac: "52:54:00:aa:00:01", link: true }, { name: "eth1", mac: "52:54:00:AA:00:02", link: false }],
  vendor: { manufacturer: "QEMU", product: "Standard PC", serial: "VM-1" },
  bootMode: "uefi",
}

const manage = async (call: ReturnType<typeof client>, name: string) => {
  assert.equal((await call("PUT", `/v1/nodes/${name}/states/provision`, { target: "manage" })).status, 202)
  await settleNode(call, name, "manageable")
}

/** Machines built to order, by node UUID; the others are the default simulated machine. */
const machines = new Map<string, SimMachineSpec>()

describe("inspection of a simulated machine", () => {
  let svc: TestService
  let call: ReturnType<typeof client>
  before(async () => {
    svc = await startTestService({ hardware: simulatedHardware({ callbackDelayMs: 20, machineOf: (id) => machines.get(id) }) })
    call = client(svc.url)
  })
  after(async () => { await svc?.close() })

  test("inspect sets cpus, memory_mb, local_gb (root disk) and cpu_arch, adds the missing port, stores the inventory", async () => {
    const node = (await call("POST", "/v1/nodes", { driver: "sim", name: "insp-1", properties: { cpus: 1, memory_mb: 1024, capabilities: "boot_mode:bios" } })).body
    assert.equal(node.inspect_interface, "agent")
    machines.set(node.uuid, machine)
    assert.equal((await call("POST", "/v1/ports", { node_uuid: node.uuid, address: "52:54:00:aa:00:01" })).status, 201)
    await manage(call, "insp-1")
    assert.equal((await call("PUT", "/v1/nodes/insp-1/states/provision", { target: "inspect" })).status, 202)
    const n = await settleNode(call, "insp-1", "manageable")
    // The smallest disk of at least 4 GiB is the root disk, as the ramdisk picks it: 12 GiB (and 5 bytes).
    assert.deepEqual(n.properties, { cpus: 6, memory_mb: 12288, local_gb: 12, cpu_arch: "x86_64", capabilities: "boot_mode:bios" })
    assert.equal(n.last_error, null)
    assert.equal(n.power_state, "power off")
    const ports = (await call("GET", `/v1/ports?node_uuid=${node.uuid}`)).body.ports.map((p: { address: string }) => p.address).sort()
    assert.deepEqual(ports, ["52:54:00:aa:00:01", "52:54:00:aa:00:02"])

    const history = (await call("GET", "/v1/nodes/insp-1/history/detail")).body.history as Array<Record<string, any>>
    const types = history.map((e) => e["type"])
    for (const t of ["InspectRequested", "CallbackAwaited", "InventoryReceived", "PortAdded", "Inspected"]) assert.ok(types.includes(t), `${t} in ${types.join(",")}`)
    const inspected = history.find((e) => e["type"] === "Inspected")!
    assert.deepEqual(inspected["data"].changes, [
      { property: "cpus", before: 1, after: 6 },
      { property: "cpu_arch", before: null, after: "x86_64" },
      { property: "memory_mb", before: 1024, after: 12288 },
      { property: "local_gb", before: null, after: 12 },
    ])
    assert.match(inspected["event"], /cpus 1 -> 6/)
    // Today's clients (API 1.78) read the inventory from the history; 1.81's endpoint is gated.
    const received = history.find((e) => e["type"] === "InventoryReceived")!
    assert.equal(received["actor"], "ramdisk")
    assert.equal(received["data"].inventory.system_vendor.manufacturer, "QEMU")
    assert.equal(received["data"].inventory.boot.current_boot_mode, "uefi")
    assert.deepEqual(received["data"].inventory.disks.map((d: { serial: string }) => d.serial), ["S-BIG", "S-SMALL", "S-TINY"])
    const gated = await call("GET", "/v1/nodes/insp-1/inventory")
    assert.equal(gated.status, 404)
    assert.match(gated.text, /needs API version 1\.81/)

    // Inspected again: nothing changes, no port is added twice.
    assert.equal((await call("PUT", "/v1/nodes/insp-1/states/provision", { target: "inspect" })).status, 202)
    await settleNode(call, "insp-1", "manageable")
    const again = (await call("GET", "/v1/nodes/insp-1/history/detail?type=Inspected")).body.history as Array<Record<string, any>>
    assert.deepEqual(again.at(-1)!["data"].changes, [])
    assert.equal((await call("GET", `/v1/ports?node_uuid=${node.uuid}`)).body.ports.length, 2)
  })

  test("a default simulated machine has its node's NICs: inspection adds no port, sets 2 CPUs, 4096 MiB, its 8 GiB disk", async () => {
    const node = (await call("POST", "/v1/nodes", { driver: "sim", name: "insp-default" })).body
    assert.equal((await call("POST", "/v1/ports", { node_uuid: node.uuid, address: "52:54:00:cc:00:01" })).status, 201)
    await manage(call, "insp-default")
    assert.equal((await call("PUT", "/v1/nodes/insp-default/states/provision", { target: "inspect" })).status, 202)
    const n = await settleNode(call, "insp-default", "manageable")
    assert.deepEqual(n.properties, { cpus: 2, memory_mb: 4096, local_gb: 8, cpu_arch: "x86_64" })
    assert.deepEqual((await call("GET", `/v1/ports?node_uuid=${node.uuid}`)).body.ports.map((p: { address: string }) => p.address), ["52:54:00:cc:00:01"])
  })

  test("the ramdisk's inventory call: a bad body is 400, a node not inspecting or a wrong key answers 404", async () => {
    const node = (await call("POST", "/v1/nodes", { driver: "sim", name: "insp-2" })).body
    const post = (body: unknown) => call("POST", `/v1/nodes/${node.uuid}/vendor_passthru/inventory`, body)
    for (const body of [{}, { key: "" , inventory: {} }, { key: "k" }, { key: "k", inventory: [] }, { key: "k", inventory: {}, extra: 1 }, { key: "k", inventory: {}, root_disk: "../sda" }]) {
      assert.equal((await post(body)).status, 400, JSON.stringify(body))
    }
    assert.equal((await post({ key: "k", inventory: { cpu: { count: 1, architecture: "x86_64" } } })).status, 404)
  })
})

describe("an inspection whose ramdisk never posts", () => {
  let svc: TestService
  before(async () => {
    // Call-backs handed nowhere: the simulated ramdisk boots but never reaches the API.
    svc = await startTestService({ hardware: simulatedHardware({ callbackDelayMs: 20, deliver: () => undefined }), conductor: { callbackTimeoutMs: 600 } })
  })
  after(async () => { await svc?.close() })

  test("times out of inspect wait into inspect failed, powered off; manage returns it to manageable", async () => {
    const call = client(svc.url)
    const node = (await call("POST", "/v1/nodes", { driver: "sim", name: "insp-late" })).body
    assert.equal((await call("POST", "/v1/ports", { node_uuid: node.uuid, address: "52:54:00:bb:00:01" })).status, 201)
    await manage(call, "insp-late")
    assert.equal((await call("PUT", "/v1/nodes/insp-late/states/provision", { target: "inspect" })).status, 202)
    // While it waits, a wrong key learns nothing: 404, as for a node that is not inspecting.
    for (let i = 0; i < 200 && (await call("GET", "/v1/nodes/insp-late")).body.provision_state !== "inspect wait"; i++) await new Promise((r) => setTimeout(r, 5))
    const forged = await call("POST", `/v1/nodes/${node.uuid}/vendor_passthru/inventory`, { key: "forged", inventory: { cpu: { count: 64, architecture: "x86_64" } } })
    assert.equal(forged.status, 404)
    const n = await settleNode(call, "insp-late", "inspect failed")
    assert.match(n.last_error, /timed out waiting for the ramdisk/)
    for (let i = 0; i < 100 && (await call("GET", "/v1/nodes/insp-late")).body.power_state !== "power off"; i++) await new Promise((r) => setTimeout(r, 25))
    assert.equal((await call("GET", "/v1/nodes/insp-late")).body.power_state, "power off")
    assert.equal((await call("GET", "/v1/nodes/insp-late/inventory")).status, 404)
    await manage(call, "insp-late")
  })
})
