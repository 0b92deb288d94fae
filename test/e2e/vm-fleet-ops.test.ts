// Fleet operations on a real VM, one chained scenario on two small (2 GiB) disks, through the HTTP
// API of the service running inside the VM rack's namespace (as vm-service-deploy.test.ts):
// a partition image is deployed; undeployed; then a manual clean runs the real ramdisk's in-band
// steps deploy.erase_devices_metadata and deploy.erase_devices, each a requested/result pair with
// the ramdisk's summary, and afterwards no byte of the VM's disk file is anything but zero.
// Before all that, an inspection: the real ramdisk reports what QEMU gave the VM (1 CPU, -m 512,
// the 2 GiB virtio disk, its NIC), and the node's properties follow.
// And first of all, discovery (ADR 0090): the VM is no node when it is switched on; it PXE-boots
// the discovery ramdisk, which posts its inventory and its BMC's address read in-band (ipmitool
// through QEMU's isa-ipmi-kcs); auto-enroll makes it a managed ipmi node with those properties,
// and ironledger powers it off and on through the address it read.
// Once deployed, a rescue: the real ramdisk in rescue mode sets the password and opens a login on
// the serial console; the test logs in through the tcp:// URL console_info gives (IPMI SOL through
// ipmi_sim to the VM's serial port), runs a command, and unrescues the node back to active (ADR 0095).
// Between inspection and deploy, one manual clean on the real ramdisk runs the burn-in steps
// (stress-ng, memtester, fio from the tools bundle it fetches; ADR 0100) with short durations, then
// raid.create_configuration builds the node's target_raid_config, a software RAID-1 across both
// disks with mdadm (ADR 0101): the deploy installs onto the array, the instance assembles it and
// boots from it (ADR 0130), and both disk files hold the root filesystem. The last cleaning runs
// raid.delete_configuration before erasing: no byte of either disk is left.
// Needs root.
import { randomBytes } from "node:crypto"
import { execFileSync } from "node:child_process"
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { startVmRackService, type VmRackService } from "../../src/cli/vm-rack/outside.ts"
import { openConsoleInNamespace } from "../support/console-client.ts"
import { vmNodeOf } from "../../src/cli/vm-rack/service.ts"
import { buildUserImage, type UserImage } from "../support/user-image.ts"
import { bytesAt, mbrPartitionsAt, mdDataOffset } from "../support/md-member.ts"
import { okClient, untilSettled } from "../adapters/http-harness.ts"

const isRoot = process.getuid?.() === 0
const skip = isRoot ? false : "needs root (network namespace, TAP devices, QEMU behind ipmi_sim)"
const cacheDir = process.env["IRONLEDGER_RAMDISK_CACHE"] ?? join(tmpdir(), "ironledger-ramdisk-cache")
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const DISK_GIB = 2

const work = mkdtempSync(join(tmpdir(), "ironledger-vm-fleet-"))
chmodSync(work, 0o755) // dnsmasq reads the TFTP tree as nobody
let service: VmRackService | null = null
// Kept so that after() stops a service whose start outlived before()'s timeout.
let starting: Promise<VmRackService> | null = null
let userImage: UserImage | null = null
let said = ""

before(async () => {
  if (skip) return
  const t0 = performance.now()
  userImage = await buildUserImage(cacheDir, join(work, "user-image"), randomBytes(6).toString("hex"), { softwareRaid: true })
  // The ramdisk and the tools bundle come from the cache when built before (a cold build takes minutes).
  starting = startVmRackService({
    namespace: `ironledger-f${process.pid}`, subnet24: "10.213.12", count: 1, stateDir: join(work, "state"), cacheDir,
    hostPort: 0, enroll: false, diskGib: DISK_GIB, disksPerVm: 2, tools: true, onOutput: (t) => { said = (said + t).slice(-20_000) },
    // The site's BMC credentials and port (the rack's defaults for vm0); the address is read in-band.
    discovery: { enabled: true, autoEnroll: true, driver: "ipmi", driverInfo: { ipmi_port: 6230, ipmi_username: "admin", ipmi_password: "ironledger" } },
  })
  service = await starting
  process.stdout.write(`# user image, ramdisk, tools bundle and service ready ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
}, { timeout: 1_200_000 })

after(async () => {
  await (service ?? await starting?.catch(() => null))?.close()
  if (process.env["KEEP_VM_TEST"] === undefined) rmSync(work, { recursive: true, force: true })
})

type Doc = Record<string, any>
const api = okClient(() => service!.url)

/** Offsets of non-zero 1 MiB blocks of a file (at most `limit`). */
const nonZeroBlocks = (path: string, limit = 5): number[] => {
  const fd = openSync(path, "r")
  const buf = Buffer.alloc(1024 * 1024)
  // Compared with memcmp (Buffer.equals): a JS callback per byte takes minutes over 4 GiB.
  const zeros = Buffer.alloc(buf.length)
  const found: number[] = []
  try {
    for (let at = 0; found.length < limit; at += buf.length) {
      const n = readSync(fd, buf, 0, buf.length, at)
      if (n === 0) break
      if (!buf.subarray(0, n).equals(zeros.subarray(0, n))) found.push(at)
    }
  } finally { closeSync(fd) }
  return found
}

test("a 2-disk VM no node knows: discovered, auto-enrolled, powered off and on; inspect; burn-in and software RAID-1 in one clean; deploy onto the array; rescue; undeploy, and a clean that deletes the array and erases every byte of both disks", { skip, timeout: 1_800_000 }, async () => {
  const s = service!, u = userImage!, vm = s.vms[0]!
  const context = () => [
    `--- console ---\n${readFileSync(vm.serialLog, "utf8").slice(-3000)}`,
    `--- service ---\n${said.slice(-3000)}`,
  ].join("\n")
  const spec = vmNodeOf(vm, DISK_GIB)
  // Someone switches the machine on (set to boot from the network): no node knows its MAC.
  const operatorIpmi = (...args: string[]) => execFileSync("ip", ["netns", "exec", s.namespace, "ipmitool", "-I", "lanplus", "-C", "3",
    "-H", vm.bmc.address, "-p", String(vm.bmc.port), "-U", vm.bmc.username, "-E", ...args], { env: { ...process.env, IPMI_PASSWORD: vm.bmc.password }, encoding: "utf8" })
  operatorIpmi("chassis", "bootdev", "pxe")
  operatorIpmi("chassis", "power", "on")
  let t0 = performance.now()
  let discovered: Doc | undefined
  for (const deadline = Date.now() + 600_000; discovered === undefined; await sleep(1000)) {
    const ports = (await api("GET", `/v1/ports/detail?address=${vm.mac}`))["ports"] as ReadonlyArray<Doc>
    if (ports.length > 0) discovered = await api("GET", `/v1/nodes/${ports[0]!["node_uuid"]}`)
    else if (Date.now() > deadline) assert.fail(`the VM was not discovered\n${context()}`)
  }
  for (const deadline = Date.now() + 60_000; discovered["provision_state"] !== "manageable"; await sleep(500)) {
    if (Date.now() > deadline) assert.fail(`the discovered node is ${discovered["provision_state"]}: ${discovered["last_error"]}\n${context()}`)
    discovered = await api("GET", `/v1/nodes/${discovered["uuid"]}`)
  }
  process.stdout.write(`# discovered and auto-enrolled (manageable) ${((performance.now() - t0) / 1000).toFixed(1)} s after power on\n`)
  // What QEMU gave the VM, as its discovery ramdisk found it; the BMC's address read in-band.
  assert.deepEqual(discovered["properties"], spec.properties)
  assert.equal(discovered["driver_internal_info"]["auto_discovered"], true)
  assert.equal(discovered["driver_info"]["ipmi_address"], new URL(s.rackUrl).hostname)
  assert.equal(discovered["driver_info"]["ipmi_port"], vm.bmc.port)
  assert.deepEqual(((await api("GET", `/v1/ports?node_uuid=${discovered["uuid"]}`))["ports"] as ReadonlyArray<Doc>).map((p) => p["address"]), [vm.mac])
  assert.equal((await api("GET", "/v1/nodes"))["nodes"].length, 1)
  // ironledger powers it off and on through that address: QEMU stops, then starts again.
  const power = async (target: string) => {
    await api("PUT", `/v1/nodes/${discovered!["uuid"]}/states/power`, { target })
    for (const deadline = Date.now() + 60_000; (await api("GET", `/v1/nodes/${discovered!["uuid"]}`))["power_state"] !== target; await sleep(300)) {
      if (Date.now() > deadline) assert.fail(`not ${target}\n${context()}`)
    }
  }
  const starts = () => readFileSync(vm.powerLog, "utf8").split("\n").filter((l) => / start /.test(l)).length
  await power("power off")
  assert.match(operatorIpmi("chassis", "power", "status"), /off/)
  const before = starts()
  await power("power on")
  assert.match(operatorIpmi("chassis", "power", "status"), /on/)
  assert.equal(starts(), before + 1)
  // The discovered node goes on as vm0 through the rest of the scenario.
  const node = await api("PATCH", `/v1/nodes/${discovered["uuid"]}`, [
    { op: "add", path: "/name", value: spec.name },
    { op: "add", path: "/automated_clean", value: false },
    { op: "add", path: "/console_interface", value: "ipmitool-socat" },
    { op: "add", path: "/raid_interface", value: "agent" },
    { op: "add", path: "/instance_info", value: { image_source: u.root, kernel: u.kernel, ramdisk: u.ramdisk, root_gb: 1 } },
  ])
  const provision = (body: Doc) => api("PUT", `/v1/nodes/${spec.name}/states/provision`, body)
  const reach = (wanted: string, ms: number) =>
    untilSettled((name) => api("GET", `/v1/nodes/${name}`), spec.name, wanted, { ms, pollMs: 500, context })
  // Each step's duration as its history records it; the step id ends in its name.
  const printSteps = (events: ReadonlyArray<Doc>) => process.stdout.write(
    `# clean steps (ms): ${events.map((e) => `${String(e["data"]["step"]).split(":").pop()} ${e["duration_ms"]}`).join(", ")}\n`)
  t0 = performance.now()
  await provision({ target: "inspect" })
  const inspected = await reach("manageable", 600_000)
  process.stdout.write(`# inspect -> manageable ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
  // memory_mb from the VM's DMI memory devices; local_gb from the disk the ramdisk would install to.
  assert.deepEqual(inspected["properties"], { cpus: 1, memory_mb: 512, local_gb: DISK_GIB, cpu_arch: "x86_64" })
  assert.equal(inspected["power_state"], "power off")
  const ports = (await api("GET", `/v1/ports?node_uuid=${node["uuid"]}`))["ports"] as ReadonlyArray<Doc>
  assert.deepEqual(ports.map((p) => p["address"]), [vm.mac])
  const inspection = (await api("GET", `/v1/nodes/${spec.name}/history/detail?type=InventoryReceived&type=Inspected`))["history"] as ReadonlyArray<Doc>
  const inventory = inspection.find((e) => e["type"] === "InventoryReceived")!["data"]
  assert.deepEqual(inventory["inventory"]["disks"].map((d: Doc) => [d["name"], d["size"]]), [["vda", DISK_GIB * 1024 ** 3], ["vdb", DISK_GIB * 1024 ** 3]])
  assert.deepEqual(inventory["inventory"]["interfaces"].map((n: Doc) => [n["mac_address"], n["has_carrier"]]), [[vm.mac, true]])
  assert.equal(inventory["inventory"]["system_vendor"]["manufacturer"], "QEMU")
  assert.equal(inventory["rootDisk"], "vda")
  // The enrolled properties were the VM's own: nothing changed.
  assert.deepEqual(inspection.find((e) => e["type"] === "Inspected")!["data"]["changes"], [])

  // Burn-in, then a RAID-1 root across both disks, in one cleaning: burnin_disk writes every disk,
  // so it runs before the array exists (ADR 0100).
  await api("PUT", `/v1/nodes/${spec.name}/states/raid`, { logical_disks: [{ size_gb: "MAX", raid_level: "1", controller: "software", is_root_volume: true }] })
  t0 = performance.now()
  await provision({ target: "clean", clean_steps: [
    { interface: "deploy", step: "burnin_cpu", args: { agent_burnin_cpu_timeout: 3, agent_burnin_cpu_cpu: 1 } },
    { interface: "deploy", step: "burnin_memory", args: { agent_burnin_vm_timeout: 1, "agent_burnin_vm_vm-bytes": "4M" } },
    { interface: "deploy", step: "burnin_disk", args: { agent_burnin_fio_disk_runtime: 2 } },
    { interface: "raid", step: "create_configuration" },
  ] })
  const built = await reach("manageable", 600_000)
  process.stdout.write(`# clean (burn-in cpu 3 s, memory 1 s over 4 MiB, disks 2 s each; RAID-1) ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
  const stepsDone = (await api("GET", `/v1/nodes/${spec.name}/history/detail?type=CleanStepDone`))["history"] as ReadonlyArray<Doc>
  const burnin = stepsDone.map((e) => e["data"])
  printSteps(stepsDone)
  assert.equal(burnin.length, 4, JSON.stringify(burnin))
  // The tools' own figures: stress-ng's bogo ops, memtester's passes, fio's IOPS per disk.
  const [cpu, memory, disks, raid] = burnin.map((d) => d["details"] as Doc)
  assert.equal(cpu!["tool"], "stress-ng")
  assert.ok(cpu!["bogo_ops"] > 0 && cpu!["workers"] === 1, JSON.stringify(cpu))
  assert.match(String(burnin[0]!["summary"]), /^stress-ng cpu: \d+ bogo ops in [\d.]+ s on 1 CPU\(s\)$/)
  assert.equal(memory!["tool"], "memtester")
  assert.ok(memory!["passes"] >= 1 && memory!["failures"] === 0, JSON.stringify(memory))
  assert.equal(disks!["tool"], "fio")
  assert.deepEqual(disks!["disks"].map((d: Doc) => d["name"]), ["vda", "vdb"])
  assert.ok(disks!["disks"].every((d: Doc) => d["read_iops"] > 0 && d["write_iops"] > 0), JSON.stringify(disks))
  process.stdout.write(`# burn-in figures: ${burnin.slice(0, 3).map((d) => d["summary"]).join("; ")}\n`)
  assert.deepEqual(raid!["raid_config"], built["raid_config"])
  const array = built["raid_config"]["logical_disks"] as ReadonlyArray<Doc>
  assert.deepEqual(array.map((d) => [d["raid_level"], d["controller"], d["physical_disks"], d["is_root_volume"]]), [["1", "software", ["vda", "vdb"], true]])

  await provision({ target: "provide" })
  await reach("available", 30_000)

  t0 = performance.now()
  await provision({ target: "active" })
  const active = await reach("active", 600_000)
  process.stdout.write(`# deploy onto the array -> active ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
  // The instance assembles the array and mounts its root from it, then its init prints the marker.
  t0 = performance.now()
  for (const deadline = Date.now() + 240_000; !readFileSync(vm.serialLog, "utf8").includes(u.marker); await sleep(1000)) {
    if (Date.now() > deadline) assert.fail(`no marker on the console\n${context()}`)
  }
  process.stdout.write(`# instance marker on the console ${((performance.now() - t0) / 1000).toFixed(1)} s after active\n`)
  assert.match(readFileSync(vm.serialLog, "utf8"), /user-image boot: root UUID=[0-9a-f-]+ is \/dev\/md\d+p1/)
  // Both members hold the root filesystem, byte for byte the image, behind the array's own MBR.
  const image = readFileSync(u.root)
  for (const disk of vm.disks) {
    const at = mdDataOffset(disk)
    const parts = mbrPartitionsAt(disk, at)
    assert.ok(parts.length >= 1, `${disk}: no partition in the array's MBR`)
    assert.ok(bytesAt(disk, parts[0]!.start, image.length).equals(image), `${disk}: the root partition is not the image`)
  }
  assert.equal(active["instance_info"]["root_gb"], 1)

  // Rescue: the ramdisk fetches the password's hash with its key and opens a login on ttyS0.
  t0 = performance.now()
  const rescuePassword = `Rp-${randomBytes(6).toString("hex")}`
  await provision({ target: "rescue", rescue_password: rescuePassword })
  await reach("rescue", 600_000)
  process.stdout.write(`# rescue -> rescue ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
  t0 = performance.now()
  await api("PUT", `/v1/nodes/${spec.name}/states/console`, { enabled: true })
  const url = String((await api("GET", `/v1/nodes/${spec.name}/states/console`))["console_info"]["url"])
  assert.match(url, /^tcp:\/\/10\.213\.12\.1:\d+$/)
  // The URL is on the API's host, inside the rack's namespace: the client runs there.
  const serial = await openConsoleInNamespace(s.namespace, url)
  try {
    // Enter until the login prompt shows (the SOL session and the getty may take a moment).
    await serial.until(/login: $/, 90_000, "\r")
    serial.send("root\r")
    await serial.until(/Password: $/, 20_000)
    serial.send(`${rescuePassword}\r`)
    // ash asks the terminal where its cursor is (ESC [6n) after its prompt.
    await serial.until(/~ # /, 30_000)
    serial.send("echo rescued-$((6 * 7)) on $(hostname)\r")
    await serial.until(/rescued-42 on ironledger-rescue/, 20_000)
    serial.send("exit\r")
  } catch (e) {
    assert.fail(`${(e as Error).message}\n--- read through the console URL ---\n${serial.read().slice(-2000)}\n${context()}`)
  } finally {
    await serial.close()
  }
  process.stdout.write(`# console login and command ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
  await api("PUT", `/v1/nodes/${spec.name}/states/console`, { enabled: false })
  const consoleEvents = ((await api("GET", `/v1/nodes/${spec.name}/history`))["history"] as ReadonlyArray<Doc>).filter((e) => String(e["type"]).startsWith("Console"))
  assert.deepEqual(consoleEvents.map((e) => e["type"]), ["ConsoleEnabled", "ConsoleConnectionOpened", "ConsoleConnectionClosed", "ConsoleDisabled"])
  assert.ok(consoleEvents.every((e) => /^user:/.test(String(e["actor"]))), JSON.stringify(consoleEvents.map((e) => e["actor"])))
  // The password never reaches the log in plain text, nor the machine's PXE command line.
  assert.ok(!JSON.stringify((await api("GET", `/v1/nodes/${spec.name}/history/detail`))["history"]).includes(rescuePassword))
  assert.ok(!said.includes(rescuePassword))
  t0 = performance.now()
  await provision({ target: "unrescue" })
  await reach("active", 300_000)
  process.stdout.write(`# unrescue -> active ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
  await provision({ target: "deleted" })
  await reach("available", 60_000)
  await provision({ target: "manage" })
  await reach("manageable", 30_000)

  t0 = performance.now()
  const since = new Date().toISOString()
  await provision({ target: "clean", clean_steps: [
    { interface: "raid", step: "delete_configuration" },
    { interface: "deploy", step: "erase_devices_metadata" },
    { interface: "deploy", step: "erase_devices" },
  ] })
  const erased = await reach("manageable", 600_000)
  process.stdout.write(`# clean (delete RAID, metadata, erase 2 x ${DISK_GIB} GiB) ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
  assert.deepEqual(erased["raid_config"], {})

  for (const disk of vm.disks) {
    assert.equal(statSync(disk).size, DISK_GIB * 1024 ** 3)
    assert.deepEqual(nonZeroBlocks(disk), [], `no byte of the old image or the array is left on ${disk}`)
  }
  const history = (await api("GET", `/v1/nodes/${spec.name}/history/detail?since=${encodeURIComponent(since)}`))["history"] as ReadonlyArray<Doc>
  const done = history.filter((e) => e["type"] === "CleanStepDone")
  printSteps(done)
  assert.equal(done.length, 3, `three clean steps done: ${history.map((e) => e["type"]).join(",")}`)
  assert.ok(done.every((e) => e["actor"] === "ramdisk" && typeof e["duration_ms"] === "number"), JSON.stringify(done))
  assert.match(JSON.stringify(done[0]), /stopped 1 md array\(s\)/)
  assert.match(JSON.stringify(done[2]), new RegExp(`overwrote ${2 * DISK_GIB * 1024 ** 3} bytes of 2 disk`))
})
