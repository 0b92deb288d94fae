// A real machine deployed with the ramdisk ironledger builds: one QEMU VM (TCG) behind ipmi_sim,
// its NIC on a bridge in a network namespace of the test's own, where the rack's dnsmasq serves
// DHCP and TFTP. ipmitool sets bootdev pxe and powers it on; SeaBIOS/iPXE load pxelinux, which loads
// the deploy kernel and initramfs; the ramdisk agent exports its disk over iSCSI (CHAP) and calls
// back; the real block writer partitions the disk and writes a partition image (built for this run,
// its init prints a nonce); "done" on TCP 10000 makes the VM reboot, PXE again, now into the
// instance kernel with root=UUID of the written partition: the nonce on the serial console proves
// it. The bytes are also checked on the VM's disk file. Needs root.
import { spawn, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { once } from "node:events"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { createInterface } from "node:readline"
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { makePxeBootConfigurator } from "../../src/adapters/pxe/pxe-boot-configurator.ts"
import { buildRamdisk, type BuiltRamdisk } from "../../src/adapters/ramdisk/build/build.ts"
import { rackIpmitool, startVmRack, type VmRack } from "../../src/adapters/vm/rack.ts"
import { computeLayout, GiB } from "../../src/domain/partition.ts"
import { buildUserImage, type UserImage } from "../support/user-image.ts"

const isRoot = process.getuid?.() === 0
const skip = isRoot ? false : "needs root (network namespace, TAP devices, TFTP)"
const peerScript = resolve(import.meta.dirname, "vm-deploy-peer.ts")
const cacheDir = process.env["IRONLEDGER_RAMDISK_CACHE"] ?? join(tmpdir(), "ironledger-ramdisk-cache")
const NODE = "7c3f0b52-5d1e-4d7a-9a43-1f0e2b6c9d11"
const API_PORT = 6385
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const work = mkdtempSync(join(tmpdir(), "ironledger-vm-deploy-"))
chmodSync(work, 0o755) // dnsmasq reads the TFTP tree as nobody
const tftpRoot = join(work, "tftpboot")
mkdirSync(tftpRoot, { mode: 0o755 })
let scope: Scope.Closeable | null = null
let rack: VmRack | null = null
let built: BuiltRamdisk | null = null
let userImage: UserImage | null = null
let peer: ChildProcess | null = null

before(async () => {
  if (skip) return
  built = await buildRamdisk({ cacheDir })
  userImage = await buildUserImage(cacheDir, join(work, "user-image"), randomBytes(6).toString("hex"))
  scope = Effect.runSync(Scope.make())
  rack = await Effect.runPromise(Scope.provide(scope)(startVmRack({
    dir: join(work, "rack"), namespace: `ironledger-t${process.pid}`, subnet24: "10.213.7", count: 1, tftpRoot,
  })))
}, { timeout: 240_000 })

/** A failed test's peer still holds the API port: it is gone before the next one listens. */
async function stopPeer(): Promise<void> {
  if (peer === null || peer.exitCode !== null || peer.signalCode !== null) return
  const gone = once(peer, "exit")
  peer.kill("SIGKILL")
  await gone
}

after(async () => {
  await stopPeer()
  if (scope !== null) await Effect.runPromise(Scope.close(scope, Exit.void))
  if (process.env["KEEP_VM_TEST"] === undefined) rmSync(work, { recursive: true, force: true })
})

/** Lines the peer prints, as parsed events, awaited one kind at a time. */
const eventsOf = (child: ChildProcess) => {
  const seen: Array<Record<string, unknown>> = []
  const waiters: Array<() => void> = []
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try { seen.push(JSON.parse(line)) } catch { seen.push({ kind: "noise", line }) }
    waiters.splice(0).forEach((w) => w())
  })
  let stderr = ""
  child.stderr!.on("data", (c) => { stderr += c })
  return {
    seen,
    stderr: () => stderr,
    next: async (kinds: ReadonlyArray<string>, withinMs: number, context: () => string) => {
      const deadline = Date.now() + withinMs
      for (;;) {
        const found = seen.find((e) => kinds.includes(String(e["kind"])) || e["kind"] === "crashed")
        if (found !== undefined) return found
        if (Date.now() > deadline) assert.fail(`no ${kinds.join("/")} within ${withinMs} ms; peer: ${JSON.stringify(seen)} ${stderr.slice(-500)}\n${context()}`)
        await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 500) })
      }
    },
  }
}

const readAt = (path: string, offset: number, bytes: number) => {
  const fd = openSync(path, "r")
  try { const b = Buffer.alloc(bytes); readSync(fd, b, 0, bytes, offset); return b } finally { closeSync(fd) }
}

test("a QEMU VM PXE-boots the built ramdisk, is partitioned and written over iSCSI, and boots the image from its disk", { skip, timeout: 300_000 }, async () => {
  const r = rack!, vm = r.vms[0]!, b = built!, u = userImage!
  const context = () => [
    `--- console ---\n${readFileSync(vm.serialLog, "utf8").slice(-2500)}`,
    `--- dnsmasq ---\n${readFileSync(r.dnsmasq.files.log, "utf8").slice(-1500)}`,
  ].join("\n")
  assert.ok(b.initramfsBytes < 20 * 1024 * 1024, `initramfs is ${b.initramfsBytes} bytes`)

  // The TFTP tree as the conductor writes it, with the API at the bridge's address.
  const apiUrl = `http://${r.network.gateway}:${API_PORT}`
  const boot = await makePxeBootConfigurator({ tftpRoot, dnsmasq: r.dnsmasq, appendParams: "console=ttyS0" })
  await Effect.runPromise(boot.prepareDeploy({
    nodeId: NODE, macs: [vm.mac], deployKernel: b.kernel, deployRamdisk: b.initramfs, kernel: u.kernel, ramdisk: u.ramdisk,
    deployId: "d1", deployKey: "k-" + randomBytes(8).toString("hex"), iscsiIqn: `iqn.2010-10.org.openstack:${NODE}`, apiUrl,
  }))

  // The service's side, inside the namespace: a 1 GiB root partition on the 4 GiB disk.
  const layout = computeLayout({ rootGb: 1, swapMb: 0, ephemeralGb: 0, diskBytes: 4 * GiB })
  assert.ok(layout._tag === "Right", JSON.stringify(layout))
  const scratch = join(work, "scratch")
  mkdirSync(scratch)
  const config = { address: r.network.gateway, port: API_PORT, image: u.root, scratch, layout: layout.right }
  await stopPeer()
  const argv = r.exec([process.execPath, peerScript, JSON.stringify(config)])
  peer = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] })
  const events = eventsOf(peer)
  await events.next(["listening"], 10_000, context)

  const started = performance.now()
  await rackIpmitool(r, vm, ["chassis", "bootdev", "pxe"])
  assert.match(await rackIpmitool(r, vm, ["chassis", "bootparam", "get", "5"]), /Force PXE/)
  await rackIpmitool(r, vm, ["chassis", "power", "on"])
  assert.match(await rackIpmitool(r, vm, ["chassis", "power", "status"]), /Chassis Power is on/)

  const callback = await events.next(["callback", "ramdisk-error", "unexpected"], 180_000, context)
  assert.equal(callback["kind"], "callback", JSON.stringify(callback))
  const callbackSeconds = (performance.now() - started) / 1000
  const body = callback["body"] as Record<string, string>
  assert.match(body["address"]!, /^10\.213\.7\.1\d\d$/)
  assert.equal(body["iqn"], `iqn.2010-10.org.openstack:${NODE}`)
  assert.match(body["chap_user"]!, /^ironledger-[0-9a-f]{8}$/)
  assert.equal(body["chap_secret"], "present")
  assert.ok(events.seen.some((e) => e["kind"] === "request" && e["apiVersion"] === "1.78"))

  const written = await events.next(["written", "write-failed"], 60_000, context)
  assert.equal(written["kind"], "written", JSON.stringify(written))
  const rootUuid = String(written["rootUuid"])

  // As the conductor does: the node's PXE config now boots the instance with its root, then "done".
  await Effect.runPromise(boot.switchToBoot(NODE, rootUuid))
  peer.stdin!.write("release\n")
  const released = await events.next(["released", "release-failed"], 40_000, context)
  assert.equal(released["kind"], "released", JSON.stringify(released))
  assert.match(readFileSync(vm.serialLog, "utf8"), /iSCSI export stopped/)

  // The reboot: the same QEMU (no new power-on) PXE-boots into the image, whose init is on the disk.
  const deadline = Date.now() + 120_000
  while (!readFileSync(vm.serialLog, "utf8").includes(u.marker)) {
    if (Date.now() > deadline) assert.fail(`no "${u.marker}" on the console after done\n${context()}`)
    await sleep(500)
  }
  const bootedSeconds = (performance.now() - started) / 1000
  assert.match(readFileSync(vm.serialLog, "utf8"), new RegExp(`root UUID=${rootUuid} is /dev/vda1`))
  assert.equal(readFileSync(vm.powerLog, "utf8").split("\n").filter((l) => / start /.test(l)).length, 1, "one power-on: the reboot was the guest's own")
  const rootImage = readFileSync(u.root)
  const onDisk = readAt(vm.disk, layout.right.partitions.find((p) => p.role === "root")!.startBytes, 64 * 1024)
  // The partition starts with the image's boot block and superblock (the root is mounted read-only).
  assert.ok(onDisk.equals(rootImage.subarray(0, 64 * 1024)), "the root partition holds the image")
  assert.equal(readAt(vm.disk, 510, 2).readUInt16LE(0), 0xaa55, "the disk has an MBR")

  await rackIpmitool(r, vm, ["chassis", "power", "off"])
  assert.match(await rackIpmitool(r, vm, ["chassis", "power", "status"]), /Chassis Power is off/)
  assert.match(await rackIpmitool(r, vm, ["chassis", "bootparam", "get", "5"]), /Force PXE/, "bootdev pxe holds across power off")
  process.stdout.write(`# power-on -> call-back ${callbackSeconds.toFixed(1)} s, -> image booted ${bootedSeconds.toFixed(1)} s; ramdisk ${b.initramfsBytes} bytes\n`)
})

test("a ramdisk that finds no disk matching the root device hints posts the error with its log tail", { skip, timeout: 240_000 }, async () => {
  const r = rack!, vm = r.vms[0]!, b = built!
  const context = () => `--- console ---\n${readFileSync(vm.serialLog, "utf8").slice(-2500)}`
  const boot = await makePxeBootConfigurator({ tftpRoot, dnsmasq: r.dnsmasq, appendParams: "console=ttyS0 root_device_serial=NO-SUCH-DISK" })
  await Effect.runPromise(boot.prepareDeploy({
    nodeId: NODE, macs: [vm.mac], deployKernel: b.kernel, deployRamdisk: b.initramfs, kernel: null, ramdisk: null,
    deployId: "d2", deployKey: "key-of-the-second-deploy", iscsiIqn: `iqn.2010-10.org.openstack:${NODE}`, apiUrl: `http://${r.network.gateway}:${API_PORT}`,
  }))
  const config = { address: r.network.gateway, port: API_PORT, image: userImage!.root, scratch: join(work, "scratch"), layout: null }
  await stopPeer()
  const argv = r.exec([process.execPath, peerScript, JSON.stringify(config)])
  peer = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] })
  const events = eventsOf(peer)
  await events.next(["listening"], 10_000, context)

  const startsOf = () => readFileSync(vm.powerLog, "utf8").split("\n").filter((l) => / start /.test(l))
  await rackIpmitool(r, vm, ["chassis", "power", "off"])
  const before = existsSync(vm.powerLog) ? startsOf().length : 0
  await rackIpmitool(r, vm, ["chassis", "bootdev", "pxe"])
  await rackIpmitool(r, vm, ["chassis", "power", "on"])
  const failed = await events.next(["ramdisk-error", "callback"], 180_000, context)
  assert.equal(failed["kind"], "ramdisk-error", JSON.stringify(failed))
  const body = failed["body"] as Record<string, unknown>
  assert.equal(body["key"], "key-of-the-second-deploy")
  assert.equal(body["chap_user"], undefined, "no credentials with an error")
  const error = String(body["error"])
  assert.match(error, /^no disk matches the root device hints \(name=any size=any serial=NO-SUCH-DISK/)
  assert.match(error, /--- ramdisk log \(tail\) ---/)
  assert.match(error, /vda 4 /, "the log tail lists the disks the ramdisk saw")

  // Reset restarts the machine with the chosen boot device.
  await rackIpmitool(r, vm, ["chassis", "power", "reset"])
  const starts = startsOf()
  assert.equal(starts.length, before + 2, JSON.stringify(starts))
  assert.match(starts.at(-1)!, / start pxe$/)
  await rackIpmitool(r, vm, ["chassis", "power", "off"])
  assert.match(await rackIpmitool(r, vm, ["chassis", "power", "status"]), /Chassis Power is off/)
})
