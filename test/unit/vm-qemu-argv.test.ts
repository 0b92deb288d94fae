// The VM rack's QEMU command line with a second disk (ADR 0130): every disk is a virtio disk in the
// guest's order (vda, vdb), only the first is booted from, and a one-disk VM is as before.
import { test } from "node:test"
import assert from "node:assert/strict"
import { qemuArgv, type VmSpec } from "../../src/adapters/vm/qemu-argv.ts"

const vm: VmSpec = {
  name: "vm0", memoryMb: 512, disk: "/r/vm0/disk.img", tap: "tap0", mac: "52:54:00:7e:0c:01", serialLog: "/r/vm0/console.log",
  bmcPort: 7230, pidFile: "/r/vm0/qemu.pid", qmpSocket: "/r/vm0/qmp.sock", firmware: { kind: "bios" },
}
const drives = (argv: ReadonlyArray<string>) => argv.flatMap((a, i) => (argv[i - 1] === "-drive" && a.startsWith("file=") ? [a] : []))
const devices = (argv: ReadonlyArray<string>) => argv.flatMap((a, i) => (argv[i - 1] === "-device" && a.startsWith("virtio-blk") ? [a] : []))

test("a BIOS VM with two disks: two virtio drives, disk first; boot order unchanged", () => {
  const argv = qemuArgv({ ...vm, extraDisks: ["/r/vm0/disk1.img"] }, "disk")
  assert.deepEqual(drives(argv), ["file=/r/vm0/disk.img,format=raw,if=virtio,cache=writeback", "file=/r/vm0/disk1.img,format=raw,if=virtio,cache=writeback"])
  assert.equal(argv[argv.indexOf("-boot") + 1], "order=c")
  assert.deepEqual(drives(qemuArgv(vm, "disk")), ["file=/r/vm0/disk.img,format=raw,if=virtio,cache=writeback"])
})

test("a UEFI VM with two disks: only the first has a boot index", () => {
  const uefi: VmSpec = { ...vm, firmware: { kind: "uefi", code: "/c.fd", vars: "/r/vm0/vars.fd" }, extraDisks: ["/r/vm0/disk1.img"] }
  assert.deepEqual(devices(qemuArgv(uefi, "pxe")), ["virtio-blk-pci,drive=disk0,bootindex=2", "virtio-blk-pci,drive=disk1"])
  assert.ok(qemuArgv(uefi, "pxe").includes("file=/r/vm0/disk1.img,format=raw,if=none,id=disk1,cache=writeback"))
})
