// The service deploys two real VMs at once through its own conductor: `startVmRackService` makes the
// rack's network namespace and runs the service inside it (rack of 2 QEMU VMs behind ipmi_sim, vm0
// with SeaBIOS, vm1 with OVMF (UEFI); the rack's dnsmasq, which offers pxelinux.0 or syslinux.efi
// by the firmware's DHCP architecture; the built deploy ramdisk as the default deploy images, the API
// on the bridge's address), and forwards the API to the host's loopback. Over HTTP, as a client
// would: enroll both VMs as ipmi nodes, vm0 with a partition image built for this run and a config
// drive, vm1 (boot_mode:uefi) with a whole-disk GPT image wrapping the same root (its ESP holds
// systemd-boot); manage, provide, deploy both at once; both end active with every step in their
// histories, and each serial console shows the image's nonce, printed by the init of the root
// partition the deploy wrote; vm0 also the config drive's meta_data uuid, which the image's init
// read from the filesystem labelled config-2. Then both undeploy with cleaning: no partition
// table is left. Then vm0 as a redfish node whose ramdisk boots from virtual media: the Redfish
// BMC inserts the service's boot ISO as the VM's CD, and the rack's dnsmasq serves no TFTP file
// during that deploy; it is rescued through virtual media (the rescue ramdisk boots from an ISO of
// its own) and unrescued; then, undeployed, the same redfish node deploys through PXE. Before vm0's
// first undeploy, its serial console (IPMI SOL) is opened in the web view in headless Chromium: the
// pane takes the console and types a word, which the VM's own tty echoes back. Needs root.
import { randomBytes, randomUUID } from "node:crypto"
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { okClient, untilSettled } from "../adapters/http-harness.ts"
import { startVmRackService, type VmRackService } from "../../src/cli/vm-rack/outside.ts"
import { vmNodeOf, vmRedfishInfoOf } from "../../src/cli/vm-rack/service.ts"
import type { RackVm } from "../../src/adapters/vm/rack.ts"
import { buildWholeDiskImage, type WholeDiskImage } from "../../src/adapters/vm/whole-disk-image.ts"
import { buildUserImage, type UserImage } from "../support/user-image.ts"
import { openConsoleInBrowser } from "../support/console-browser.ts"

const isRoot = process.getuid?.() === 0
const skip = isRoot ? false : "needs root (network namespace, TAP devices, QEMU behind ipmi_sim)"
const cacheDir = process.env["IRONLEDGER_RAMDISK_CACHE"] ?? join(tmpdir(), "ironledger-ramdisk-cache")
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const work = mkdtempSync(join(tmpdir(), "ironledger-vm-service-"))
chmodSync(work, 0o755) // dnsmasq reads the TFTP tree as nobody
let service: VmRackService | null = null
let userImage: UserImage | null = null
let wholeDisk: WholeDiskImage | null = null
let said = ""

before(async () => {
  if (skip) return
  userImage = await buildUserImage(cacheDir, join(work, "user-image"), randomBytes(6).toString("hex"))
  wholeDisk = await buildWholeDiskImage(cacheDir, join(work, "user-image"), userImage)
  service = await startVmRackService({
    namespace: `ironledger-s${process.pid}`, subnet24: "10.213.9", count: 2, bootModes: ["bios", "uefi"], stateDir: join(work, "state"), cacheDir,
    hostPort: 0, enroll: false, onOutput: (t) => { said = (said + t).slice(-20_000) },
  })
}, { timeout: 240_000 })

after(async () => {
  await service?.close()
  if (process.env["KEEP_VM_TEST"] === undefined) rmSync(work, { recursive: true, force: true })
})

type Doc = Record<string, any>
const api = okClient(() => service!.url)

const fileText = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "")
const headOf = (path: string, bytes: number) => {
  const head = Buffer.alloc(bytes)
  const fd = openSync(path, "r")
  try { readSync(fd, head, 0, bytes, 0) } finally { closeSync(fd) }
  return head
}

test("two QEMU VMs deploy at once as ipmi nodes: BIOS with a partition image, UEFI (OVMF) with a whole-disk image; both boot from their disks; undeploy cleans them", { skip, timeout: 1_200_000 }, async () => {
  const s = service!, u = userImage!, w = wholeDisk!
  const [bios, uefi] = s.vms as [RackVm, RackVm]
  assert.equal(uefi.bootMode, "uefi")
  assert.ok(w.bytes <= 32 * 1024 * 1024, `the whole-disk image is ${w.bytes} bytes`)
  assert.match(s.rackUrl, /^http:\/\/10\.213\.9\.1:\d+$/, "the API is at the bridge's address, where the VMs reach it")
  const dnsmasqLog = join(work, "state", "rack", "dnsmasq", "dnsmasq.log")
  const context = () => [
    ...s.vms.map((vm) => `--- ${vm.name} console ---\n${fileText(vm.serialLog).slice(-2000)}`),
    `--- dnsmasq ---\n${fileText(dnsmasqLog).slice(-1500)}`,
    `--- service ---\n${said.slice(-3000)}`,
  ].join("\n")
  const reach = (name: string, wanted: string, ms: number) =>
    untilSettled((n) => api("GET", `/v1/nodes/${n}`), name, wanted, { ms, pollMs: 500, context })
  const onConsole = async (vm: RackVm, line: string, deadline: number) => {
    while (!fileText(vm.serialLog).includes(line)) {
      if (Date.now() > deadline) assert.fail(`no "${line}" on ${vm.name}'s console\n${context()}`)
      await sleep(500)
    }
  }
  const enroll = async (vm: RackVm, instanceInfo: Doc, extra: Doc = {}) => {
    const spec = vmNodeOf(vm, 4)
    // No deploy_kernel/deploy_ramdisk: the built ramdisk is the default.
    const node = await api("POST", "/v1/nodes", { name: spec.name, driver: "ipmi", driver_info: spec.driverInfo, properties: spec.properties, automated_clean: false, instance_info: instanceInfo, ...extra })
    await api("POST", "/v1/ports", { node_uuid: node["uuid"], address: vm.mac })
    await api("PUT", `/v1/nodes/${spec.name}/states/provision`, { target: "manage" })
    await reach(spec.name, "manageable", 30_000)
    await api("PUT", `/v1/nodes/${spec.name}/states/provision`, { target: "provide" })
    await reach(spec.name, "available", 30_000)
    return node
  }
  await enroll(bios, { image_source: u.root, kernel: u.kernel, ramdisk: u.ramdisk, root_gb: 1 }, { console_interface: "ipmitool-socat" })
  const uefiNode = await enroll(uefi, { image_source: w.disk })
  assert.equal(uefiNode["properties"]["capabilities"], "boot_mode:uefi")

  // Both deploys at once; a config drive in the JSON form for vm0: the image's init mounts LABEL=config-2 and prints meta_data's uuid.
  const started = performance.now()
  const instance = randomUUID()
  await Promise.all([
    api("PUT", `/v1/nodes/${bios.name}/states/provision`, { target: "active", configdrive: { meta_data: { uuid: instance } } }),
    api("PUT", `/v1/nodes/${uefi.name}/states/provision`, { target: "active" }),
  ])
  const activeAfter: Record<string, number> = {}
  await Promise.all([bios, uefi].map(async (vm) => {
    const active = await reach(vm.name, "active", 480_000)
    activeAfter[vm.name] = (performance.now() - started) / 1000
    assert.equal(active["last_error"], null)
  }))

  // The conductor's power-on and reboot go through ipmitool, ipmi_sim and chassis_control: QEMU started with pxe.
  for (const vm of [bios, uefi]) assert.match(fileText(vm.powerLog), / start pxe/, vm.name)
  const deadline = Date.now() + 300_000
  await Promise.all([onConsole(bios, u.marker, deadline), onConsole(uefi, w.marker, deadline)])
  const bootedSeconds = (performance.now() - started) / 1000
  // vm0: partition 1 is the config drive, root comes last (Ironic's order). vm1: the image's own GPT, its root second after the ESP.
  assert.match(fileText(bios.serialLog), /root UUID=[0-9a-f-]{36} is \/dev\/vda2/, "vm0's root is the partition the deploy wrote")
  assert.match(fileText(uefi.serialLog), /root UUID=[0-9a-f-]{36} is \/dev\/vda2/, "vm1's root is the whole-disk image's")
  assert.ok(headOf(uefi.disk, 1024).subarray(512, 520).equals(Buffer.from("EFI PART")), "vm1's disk holds the image's GPT")
  await onConsole(bios, `user-image config drive on /dev/vda1: meta_data uuid ${instance}`, deadline)
  for (const vm of [bios, uefi]) {
    // The kernel prints its command line: the PXE config gave the ramdisk the API at the bridge's address.
    const console_ = fileText(vm.serialLog)
    assert.ok(console_.includes(`ironic_api_url=${s.rackUrl} `), `${vm.name}: the deploy kernel's command line carries the rack's API URL`)
    assert.ok(!console_.includes("ironic_api_url=http://127."), "no loopback URL reaches the VM")
  }
  // Each firmware got its loader: DHCP option 93 said BIOS or x86-64 UEFI.
  assert.match(fileText(dnsmasqLog), /sent \S*\/pxelinux\.0 to /)
  assert.match(fileText(dnsmasqLog), /sent \S*\/syslinux\.efi to /)
  assert.match(fileText(dnsmasqLog), /sent \S*\/ldlinux\.e64 to /)

  for (const vm of [bios, uefi]) {
    const history = (await api("GET", `/v1/nodes/${vm.name}/history`))["history"] as ReadonlyArray<Doc>
    const types = history.map((e) => e["type"])
    for (const t of ["DeployRequested", "BootDeviceSet", "IscsiReady", "ImageWritten", "RamdiskReleased", "DeployDone"])
      assert.ok(types.includes(t), `${vm.name}: ${t} in ${types.join(",")}`)
    // Every step after the request, with how long it took.
    const deploy = history.slice(types.lastIndexOf("DeployRequested") + 1)
    for (const e of deploy) assert.ok(typeof e["duration_ms"] === "number" && e["duration_ms"] >= 0, `${vm.name}: ${e["type"]} has duration ${e["duration_ms"]}`)
  }
  process.stdout.write(`# 2 VMs deploy -> active ${activeAfter[bios.name]!.toFixed(1)} s (bios, partition) / ${activeAfter[uefi.name]!.toFixed(1)} s (uefi, whole disk), -> both images booted ${bootedSeconds.toFixed(1)} s\n`)

  // vm0's console in the web view (ADR 0064, 0146), in headless Chromium: the pane's WebSocket runs
  // through the API to ipmitool's SOL session with ipmi_sim, whose sol line is the VM's serial port.
  // The pane takes the console and types a word; the instance's tty (its init holds /dev/console)
  // echoes it, so the word the pane shows was typed into the VM and printed by it.
  const consoleStarted = performance.now()
  await api("PUT", `/v1/nodes/${bios.name}/states/console`, { enabled: true })
  const word = `typed-${randomBytes(4).toString("hex")}`
  const browser = await openConsoleInBrowser(s.url, bios.name)
  try {
    await browser.take()
    await browser.typeUntil(word, new RegExp(word), 90_000)
  } catch (e) {
    assert.fail(`${(e as Error).message}\n${context()}`)
  } finally {
    await browser.close()
  }
  assert.ok(fileText(bios.serialLog).includes(word), "the VM printed the word on its serial port (QEMU's log of it)")
  await api("PUT", `/v1/nodes/${bios.name}/states/console`, { enabled: false })
  const consoleEvents = ((await api("GET", `/v1/nodes/${bios.name}/history/detail`))["history"] as ReadonlyArray<Doc>).filter((e) => String(e["type"]).startsWith("Console"))
  assert.ok(consoleEvents.some((e) => e["type"] === "ConsoleConnectionOpened" && e["data"]["via"] === "websocket" && e["data"]["writer"] === true),
    `the pane was recorded as the console's writer: ${JSON.stringify(consoleEvents)}`)
  assert.equal(consoleEvents.at(-1)?.["type"], "ConsoleDisabled")
  process.stdout.write(`# web view console through IPMI SOL: enable, open, type, echo ${((performance.now() - consoleStarted) / 1000).toFixed(1)} s\n`)

  // Undeploy both with cleaning: the ramdisk boots again and the conductor wipes the disks' metadata.
  const undeployStarted = performance.now()
  for (const vm of [bios, uefi]) await api("PATCH", `/v1/nodes/${vm.name}`, [{ op: "replace", path: "/automated_clean", value: true }])
  await Promise.all([bios, uefi].map((vm) => api("PUT", `/v1/nodes/${vm.name}/states/provision`, { target: "deleted" })))
  for (const vm of [bios, uefi]) {
    const back = await reach(vm.name, "available", 480_000)
    assert.equal(back["power_state"], "power off")
    // The MBR, and for vm1 the GPT header after it.
    assert.ok(headOf(vm.disk, 1024).every((b) => b === 0), `${vm.name}'s disk has no partition table after undeploy`)
    const undeployHistory = ((await api("GET", `/v1/nodes/${vm.name}/history`))["history"] as ReadonlyArray<Doc>).map((e) => e["type"])
    for (const t of ["UndeployRequested", "RamdiskReady", "CleanStepDone", "CleaningDone"]) assert.ok(undeployHistory.includes(t), `${t} after undeploy of ${vm.name}`)
  }
  process.stdout.write(`# 2 VMs undeploy with cleaning -> available ${((performance.now() - undeployStarted) / 1000).toFixed(1)} s\n`)
})

// The same VM, now enrolled as a redfish node on the rack's Redfish BMC: the emulator drives the
// chassis control program its ipmi_sim runs, so it is one machine whichever BMC speaks for it. Its
// boot interface is redfish-virtual-media: the deploy ramdisk boots from the ISO the service built,
// which the BMC inserted as the VM's CD, with boot override Cd once; nothing is fetched over TFTP.
test("the same VM deploys again as a redfish node through virtual media (no TFTP, the ramdisk boots from the inserted ISO), then through PXE", { skip, timeout: 600_000 }, async () => {
  const s = service!, u = userImage!, vm = s.vms[0]!
  // The console file appears with QEMU's first start.
  const text = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "")
  const context = () => [
    `--- console ---\n${text(vm.serialLog).slice(-2500)}`,
    `--- service ---\n${said.slice(-3000)}`,
  ].join("\n")
  const reach = (name: string, wanted: string, ms: number) =>
    untilSettled((n) => api("GET", `/v1/nodes/${n}`), name, wanted, { ms, pollMs: 500, context })
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

  // Rescue through virtual media (ADR 0145): the deploy ramdisk boots in rescue mode from a rescue
  // ISO the BMC inserted (boot override Cd once), fetches the password's hash over the API with the
  // ISO's key, opens its login on the serial console and reports ready. Unrescue ejects it and the
  // instance boots from its own ISO again.
  const password = `rescue-${randomBytes(6).toString("hex")}`
  const cdStartsBeforeRescue = text(vm.powerLog).split(" start cdrom cd-inserted").length
  const consoleBeforeRescue = text(vm.serialLog).length
  const rescueStarted = performance.now()
  await api("PUT", `/v1/nodes/${name}/states/provision`, { target: "rescue", rescue_password: password })
  await reach(name, "rescue", 240_000)
  const rescueSeconds = (performance.now() - rescueStarted) / 1000
  assert.ok(text(vm.powerLog).split(" start cdrom cd-inserted").length > cdStartsBeforeRescue, "the rescue ramdisk did not start from the virtual CD")
  const rescueIso = join(work, "state", "virtual-media", node["uuid"], "rescue.iso")
  assert.ok(existsSync(rescueIso), "the rescue ISO is out while rescued")
  assert.ok(!readFileSync(rescueIso).includes(Buffer.from(password)), "the password is not in the rescue ISO")
  const rescueDeadline = Date.now() + 60_000
  while (!/login:/.test(text(vm.serialLog).slice(consoleBeforeRescue))) {
    if (Date.now() > rescueDeadline) assert.fail(`no rescue login on the console\n${context()}`)
    await sleep(500)
  }
  const rescueConsole = text(vm.serialLog).slice(consoleBeforeRescue)
  assert.ok(rescueConsole.includes("rescue_mode=1"), `the rescue kernel did not boot from the rescue ISO:\n${rescueConsole.slice(0, 3000)}`)
  assert.ok(!rescueConsole.includes(password), "the password is not on the console or the command line")
  const markersBeforeUnrescue = text(vm.serialLog).split(u.marker).length
  const unrescueStarted = performance.now()
  await api("PUT", `/v1/nodes/${name}/states/provision`, { target: "unrescue" })
  await reach(name, "active", 120_000)
  assert.equal(existsSync(rescueIso), false, "unrescue removed the rescue ISO (and its key)")
  const unrescueDeadline = Date.now() + 120_000
  while (text(vm.serialLog).split(u.marker).length <= markersBeforeUnrescue) {
    if (Date.now() > unrescueDeadline) assert.fail(`the image did not boot after unrescue\n${context()}`)
    await sleep(500)
  }
  process.stdout.write(`# redfish rescue through virtual media ${rescueSeconds.toFixed(1)} s, unrescue -> image booted ${((performance.now() - unrescueStarted) / 1000).toFixed(1)} s\n`)

  // The same redfish node through PXE: undeployed, its boot interface set to pxe, deployed again;
  // Redfish sets the boot override Pxe and powers it, the rack's dnsmasq serves the ramdisk over TFTP.
  await api("PUT", `/v1/nodes/${name}/states/provision`, { target: "deleted" })
  await reach(name, "available", 120_000)
  // Undeploy cleared instance_info, as Ironic's tear down does: the image is given again.
  assert.equal((await api("PATCH", `/v1/nodes/${name}`, [
    { op: "replace", path: "/boot_interface", value: "pxe" },
    { op: "add", path: "/instance_info", value: { image_source: u.root, kernel: u.kernel, ramdisk: u.ramdisk, root_gb: 1 } },
  ]))["boot_interface"], "pxe")
  const markersBeforePxe = text(vm.serialLog).split(u.marker).length
  const logBeforePxe = text(dnsmasqLog).length
  const startedPxe = performance.now()
  await api("PUT", `/v1/nodes/${name}/states/provision`, { target: "active" })
  await reach(name, "active", 200_000)
  const pxeSeconds = (performance.now() - startedPxe) / 1000
  const sent = text(dnsmasqLog).slice(logBeforePxe).split("\n").filter((l) => /dnsmasq-tftp/.test(l) && /: sent /.test(l))
  assert.ok(sent.some((l) => l.includes(pxeConfig)), `no PXE config sent over TFTP:\n${sent.join("\n")}`)
  const pxeRequested = ((await api("GET", `/v1/nodes/${name}/history`))["history"] as ReadonlyArray<Doc>).filter((e) => e["type"] === "BootDeviceRequested")
  assert.ok(pxeRequested.some((e) => JSON.stringify(e).includes("pxe")), JSON.stringify(pxeRequested))
  const pxeDeadline = Date.now() + 120_000
  while (text(vm.serialLog).split(u.marker).length <= markersBeforePxe) {
    if (Date.now() > pxeDeadline) assert.fail(`the image did not boot after the PXE deploy\n${context()}`)
    await sleep(500)
  }
  process.stdout.write(`# redfish deploy through PXE -> active ${pxeSeconds.toFixed(1)} s\n`)
})
