// The service deploys a real VM through its own conductor: `startVmRackService` makes the rack's
// network namespace and runs the service inside it (rack of 1 QEMU VM behind ipmi_sim, the rack's
// dnsmasq, the built deploy ramdisk as the default deploy images, the API on the bridge's address),
// and forwards the API to the host's loopback. Over HTTP, as a client would: enroll the VM as an
// ipmi node with a partition image built for this run, manage, provide, deploy with a config drive;
// it ends active, its serial console shows the image's nonce and the config drive's meta_data uuid,
// which the image's init read from the filesystem labelled config-2. Then undeploy with cleaning:
// the disk's partition table is gone. Then the same VM as a redfish node whose ramdisk boots from
// virtual media: the Redfish BMC inserts the service's boot ISO as the VM's CD, and the rack's
// dnsmasq serves no TFTP file during that deploy. Needs root.
import { randomBytes, randomUUID } from "node:crypto"
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { startVmRackService, type VmRackService } from "../../src/cli/vm-rack/outside.ts"
import { vmNodeOf, vmRedfishInfoOf } from "../../src/cli/vm-rack/service.ts"
import { buildUserImage, type UserImage } from "../support/user-image.ts"

const isRoot = process.getuid?.() === 0
const skip = isRoot ? false : "needs root (network namespace, TAP devices, QEMU behind ipmi_sim)"
const cacheDir = process.env["IRONLEDGER_RAMDISK_CACHE"] ?? join(tmpdir(), "ironledger-ramdisk-cache")
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const work = mkdtempSync(join(tmpdir(), "ironledger-vm-service-"))
chmodSync(work, 0o755) // dnsmasq reads the TFTP tree as nobody
let service: VmRackService | null = null
let userImage: UserImage | null = null
let said = ""

before(async () => {
  if (skip) return
  userImage = await buildUserImage(cacheDir, join(work, "user-image"), randomBytes(6).toString("hex"))
  service = await startVmRackService({
    namespace: `ironledger-s${process.pid}`, subnet24: "10.213.9", count: 1, stateDir: join(work, "state"), cacheDir,
    hostPort: 0, enroll: false, onOutput: (t) => { said = (said + t).slice(-20_000) },
  })
}, { timeout: 240_000 })

after(async () => {
  await service?.close()
  if (process.env["KEEP_VM_TEST"] === undefined) rmSync(work, { recursive: true, force: true })
})

type Doc = Record<string, any>
const api = async (method: string, path: string, body?: unknown): Promise<Doc> => {
  const res = await fetch(`${service!.url}${path}`, {
    method,
    headers: { "X-OpenStack-Ironic-API-Version": "1.78", ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(15_000),
  })
  const text = await res.text()
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`)
  return text === "" ? {} : JSON.parse(text)
}

test("the service deploys a QEMU VM enrolled as an ipmi node: PXE, the built ramdisk, iSCSI, the image boots from its disk; undeploy cleans it", { skip, timeout: 540_000 }, async () => {
  const s = service!, u = userImage!, vm = s.vms[0]!
  assert.match(s.rackUrl, /^http:\/\/10\.213\.9\.1:\d+$/, "the API is at the bridge's address, where the VMs reach it")
  const context = () => [
    `--- console ---\n${readFileSync(vm.serialLog, "utf8").slice(-2500)}`,
    `--- service ---\n${said.slice(-3000)}`,
  ].join("\n")

  const spec = vmNodeOf(vm, 4)
  const node = await api("POST", "/v1/nodes", {
    name: spec.name, driver: "ipmi", driver_info: spec.driverInfo, properties: spec.properties, automated_clean: false,
    // No deploy_kernel/deploy_ramdisk: the built ramdisk is the default.
    instance_info: { image_source: u.root, kernel: u.kernel, ramdisk: u.ramdisk, root_gb: 1 },
  })
  await api("POST", "/v1/ports", { node_uuid: node["uuid"], address: vm.mac })

  const reach = async (wanted: string, ms: number) => {
    const deadline = Date.now() + ms
    for (;;) {
      const n = await api("GET", `/v1/nodes/${spec.name}`)
      if (n["provision_state"] === wanted && n["target_provision_state"] === null) return n
      if (/failed$/.test(String(n["provision_state"]))) assert.fail(`${spec.name} ${n["provision_state"]}: ${n["last_error"]}\n${context()}`)
      if (Date.now() > deadline) assert.fail(`${spec.name} not ${wanted} within ${ms} ms (now ${n["provision_state"]}: ${n["last_error"]})\n${context()}`)
      await sleep(500)
    }
  }
  await api("PUT", `/v1/nodes/${spec.name}/states/provision`, { target: "manage" })
  await reach("manageable", 30_000)
  await api("PUT", `/v1/nodes/${spec.name}/states/provision`, { target: "provide" })
  await reach("available", 30_000)

  const started = performance.now()
  // A config drive in the JSON form: the image's init mounts LABEL=config-2 and prints meta_data's uuid.
  const instance = randomUUID()
  await api("PUT", `/v1/nodes/${spec.name}/states/provision`, { target: "active", configdrive: { meta_data: { uuid: instance } } })
  const active = await reach("active", 200_000)
  const activeSeconds = (performance.now() - started) / 1000
  assert.equal(active["last_error"], null)

  // The conductor's power-on and reboot go through ipmitool, ipmi_sim and chassis_control: QEMU started with pxe.
  assert.match(readFileSync(vm.powerLog, "utf8"), / start pxe/)
  const deadline = Date.now() + 90_000
  while (!readFileSync(vm.serialLog, "utf8").includes(u.marker)) {
    if (Date.now() > deadline) assert.fail(`no "${u.marker}" on the console\n${context()}`)
    await sleep(500)
  }
  const console_ = readFileSync(vm.serialLog, "utf8")
  // Partition 1 is the config drive, root comes last (Ironic's order).
  assert.match(console_, /root UUID=[0-9a-f-]{36} is \/dev\/vda2/, "the instance's root is the partition the deploy wrote")
  const drive = `user-image config drive on /dev/vda1: meta_data uuid ${instance}`
  while (!readFileSync(vm.serialLog, "utf8").includes(drive)) {
    if (Date.now() > deadline) assert.fail(`no "${drive}" on the console\n${context()}`)
    await sleep(500)
  }
  // The kernel prints its command line: the PXE config gave the ramdisk the API at the bridge's address.
  assert.ok(console_.includes(`ironic_api_url=${s.rackUrl} `), "the deploy kernel's command line carries the rack's API URL")
  assert.ok(!console_.includes("ironic_api_url=http://127."), "no loopback URL reaches the VM")

  const history = (await api("GET", `/v1/nodes/${spec.name}/history`))["history"] as ReadonlyArray<Doc>
  const types = history.map((e) => e["type"])
  for (const t of ["DeployRequested", "BootDeviceSet", "IscsiReady", "ImageWritten", "RamdiskReleased", "DeployDone"]) assert.ok(types.includes(t), `${t} in ${types.join(",")}`)
  process.stdout.write(`# deploy -> active ${activeSeconds.toFixed(1)} s, -> image booted ${((performance.now() - started) / 1000).toFixed(1)} s\n`)

  // Undeploy with cleaning: the ramdisk boots again and the conductor wipes the disk's metadata.
  await api("PATCH", `/v1/nodes/${spec.name}`, [{ op: "replace", path: "/automated_clean", value: true }])
  const undeployStarted = performance.now()
  await api("PUT", `/v1/nodes/${spec.name}/states/provision`, { target: "deleted" })
  const back = await reach("available", 200_000)
  assert.equal(back["power_state"], "power off")
  const head = Buffer.alloc(512)
  const fd = openSync(vm.disk, "r")
  try { readSync(fd, head, 0, 512, 0) } finally { closeSync(fd) }
  assert.ok(head.every((b) => b === 0), "the VM's disk has no partition table after undeploy")
  const undeployHistory = ((await api("GET", `/v1/nodes/${spec.name}/history`))["history"] as ReadonlyArray<Doc>).map((e) => e["type"])
  for (const t of ["UndeployRequested", "RamdiskReady", "CleanStepDone", "CleaningDone"]) assert.ok(undeployHistory.includes(t), `${t} after undeploy`)
  process.stdout.write(`# undeploy with cleaning -> available ${((performance.now() - undeployStarted) / 1000).toFixed(1)} s\n`)
})

// The same VM, now enrolled as a redfish node on the rack's Redfish BMC: the emulator drives the
// chassis control program its ipmi_sim runs, so it is one machine whichever BMC speaks for it. Its
// boot interface is redfish-virtual-media: the deploy ramdisk boots from the ISO the service built,
// which the BMC inserted as the VM's CD, with boot override Cd once; nothing is fetched over TFTP.
test("the same VM deploys again as a redfish node through virtual media: no TFTP, the ramdisk boots from the inserted ISO", { skip, timeout: 300_000 }, async () => {
  const s = service!, u = userImage!, vm = s.vms[0]!
  // The console file appears with QEMU's first start.
  const text = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "")
  const context = () => [
    `--- console ---\n${text(vm.serialLog).slice(-2500)}`,
    `--- service ---\n${said.slice(-3000)}`,
  ].join("\n")
  const reach = async (name: string, wanted: string, ms: number) => {
    const deadline = Date.now() + ms
    for (;;) {
      const n = await api("GET", `/v1/nodes/${name}`)
      if (n["provision_state"] === wanted && n["target_provision_state"] === null) return n
      if (/failed$/.test(String(n["provision_state"]))) assert.fail(`${name} ${n["provision_state"]}: ${n["last_error"]}\n${context()}`)
      if (Date.now() > deadline) assert.fail(`${name} not ${wanted} within ${ms} ms (now ${n["provision_state"]}: ${n["last_error"]})\n${context()}`)
      await sleep(500)
    }
  }
  // Free the VM from its ipmi node (if the previous test left one).
  const old = await fetch(`${s.url}/v1/nodes/${vm.name}`, { headers: { "X-OpenStack-Ironic-API-Version": "1.78" } })
  if (old.ok) {
    if ((await old.json() as Doc)["provision_state"] === "active") {
      await api("PUT", `/v1/nodes/${vm.name}/states/provision`, { target: "deleted" })
      await reach(vm.name, "available", 60_000)
    }
    await api("DELETE", `/v1/nodes/${vm.name}`)
  }
  const markersBefore = text(vm.serialLog).split(u.marker).length
  const consoleBefore = text(vm.serialLog).length
  const startsBefore = text(vm.powerLog).split(" start cdrom cd-inserted").length
  const name = `${vm.name}-rf`
  const node = await api("POST", "/v1/nodes", {
    name, driver: "redfish", driver_info: vmRedfishInfoOf(vm, s.redfish), properties: vmNodeOf(vm, 4).properties, automated_clean: false,
    boot_interface: "redfish-virtual-media",
    instance_info: { image_source: u.root, kernel: u.kernel, ramdisk: u.ramdisk, root_gb: 1 },
  })
  assert.equal(node["power_interface"], "redfish")
  assert.equal(node["boot_interface"], "redfish-virtual-media")
  await api("POST", "/v1/ports", { node_uuid: node["uuid"], address: vm.mac })
  await api("PUT", `/v1/nodes/${name}/states/provision`, { target: "manage" })
  await reach(name, "manageable", 60_000)
  await api("PUT", `/v1/nodes/${name}/states/provision`, { target: "provide" })
  await reach(name, "available", 60_000)
  const dnsmasqLog = join(work, "state", "rack", "dnsmasq", "dnsmasq.log")
  const logBefore = text(dnsmasqLog).length
  const started = performance.now()
  await api("PUT", `/v1/nodes/${name}/states/provision`, { target: "active" })
  await reach(name, "active", 200_000)
  const activeSeconds = (performance.now() - started) / 1000
  // The boot override Cd and the inserted ISO reached the VM's chassis control: QEMU started with its CD.
  assert.ok(text(vm.powerLog).split(" start cdrom cd-inserted").length > startsBefore, `no start from the virtual CD:\n${text(vm.powerLog).slice(-1500)}`)
  // The rack's dnsmasq gave the ramdisk its address (DHCP) and served no file over TFTP meanwhile.
  const during = text(dnsmasqLog).slice(logBefore).split("\n")
  assert.ok(during.some((l) => /DHCPACK/.test(l) && l.includes(vm.mac)), `no DHCP answer to ${vm.mac} during the deploy:\n${during.join("\n").slice(-2000)}`)
  // A fetch is a transfer dnsmasq completed ("sent"), or any line naming this node's files or its
  // MAC's config; a transfer an earlier boot of the VM began may still end (fail) meanwhile.
  const pxeConfig = `01-${vm.mac.replace(/:/g, "-")}`
  const tftp = during.filter((l) => /dnsmasq-tftp/.test(l) && (/: sent /.test(l) || l.includes(node["uuid"]) || l.includes(pxeConfig)))
  assert.deepEqual(tftp, [], "TFTP during a virtual-media deploy")
  // The deploy kernel printed the ISO's command line (initrd from the CD's root, the key's deploy).
  const ramdiskConsole = text(vm.serialLog).slice(consoleBefore)
  assert.ok(ramdiskConsole.includes("initrd=/initrd "), `the deploy kernel did not boot from the ISO:\n${ramdiskConsole.slice(0, 3000)}`)
  assert.ok(ramdiskConsole.includes(`ironic_api_url=${s.rackUrl} `), "the ISO's command line carries the rack's API URL")
  const requested = ((await api("GET", `/v1/nodes/${name}/history`))["history"] as ReadonlyArray<Doc>).filter((e) => e["type"] === "BootDeviceRequested")
  assert.ok(requested.some((e) => JSON.stringify(e).includes("cdrom")), JSON.stringify(requested))
  // After the deploy the deploy ISO (with the key) is gone; the partition image's kernel boots from an ISO of its own.
  assert.equal(existsSync(join(work, "state", "virtual-media", node["uuid"], "boot.iso")), false, "the deploy ISO is removed after the deploy")
  assert.ok(text(vm.powerLog).split(" start cdrom cd-inserted").length > startsBefore + 1, "the instance did not start from its ISO")
  const deadline = Date.now() + 90_000
  while (text(vm.serialLog).split(u.marker).length <= markersBefore) {
    if (Date.now() > deadline) assert.fail(`the image did not boot again\n${context()}`)
    await sleep(500)
  }
  // Verify recorded what the Redfish BMC reports of the VM's BIOS.
  const bios = (await api("GET", `/v1/nodes/${name}/bios`))["bios"] as ReadonlyArray<Doc>
  assert.ok(bios.some((b) => b["name"] === "BootMode"), JSON.stringify(bios))
  process.stdout.write(`# redfish deploy -> active ${activeSeconds.toFixed(1)} s\n`)
})
