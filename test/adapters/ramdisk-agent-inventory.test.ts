// The ramdisk agent's inventory (src/adapters/ramdisk/agent/inventory.sh) under the real busybox
// (only its applets on the PATH, as in the ramdisk), over a /sys and /proc laid out as a QEMU
// machine's: DMI memory devices (plain, extended size, KiB granularity, an empty slot), two disks
// and a loop device, NICs with and without carrier, DMI vendor strings needing escapes, EFI. The
// JSON it prints must be what the service takes, with the properties the service derives from it.
// Then the agent's offer of it (inspect_if_asked) against an HTTP server: 404 goes on to the
// deploy, 202 stops there, the body carries the key and the inventory.
import { execFileSync, spawn } from "node:child_process"
import { createServer } from "node:http"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import * as E from "fp-ts/lib/Either.js"
import { inspectedProperties, parseInventory } from "../../src/application/inspection/inventory.ts"

const agentDir = resolve(import.meta.dirname, "../../src/adapters/ramdisk/agent")
const work = mkdtempSync(join(tmpdir(), "ironledger-agent-inventory-"))
const GiB = 1024 ** 3

before(() => {
  const busybox = execFileSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).trim()
  mkdirSync(join(work, "bin"))
  for (const applet of execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => /^[a-z0-9_.-]+$/.test(a))) {
    symlinkSync(busybox, join(work, "bin", applet))
  }
})
after(() => rmSync(work, { recursive: true, force: true }))

const put = (root: string, path: string, content: string | Buffer) => {
  mkdirSync(dirname(join(root, path)), { recursive: true })
  writeFileSync(join(root, path), content)
}

/** An SMBIOS type 17 structure's formatted area: size word at 0x0C, extended size at 0x1C. */
const memoryDevice = (size: number, extendedMb = 0) => {
  const raw = Buffer.alloc(0x28)
  raw[0] = 17
  raw[1] = 0x28
  raw.writeUInt16LE(size, 0x0c)
  raw.writeUInt32LE(extendedMb, 0x1c)
  return raw
}

const machineTree = (name: string, dmiMemory: boolean) => {
  const root = join(work, name)
  const sys = join(root, "sys")
  const proc = join(root, "proc")
  put(proc, "cpuinfo", [0, 1, 2].map((i) => `processor\t: ${i}\nmodel name\t: QEMU Virtual CPU version 2.5+\nflags\t\t: fpu\n`).join("\n"))
  put(proc, "meminfo", "MemTotal:        3906128 kB\nMemFree:         3000000 kB\n")
  if (dmiMemory) {
    put(sys, "firmware/dmi/entries/17-0/raw", memoryDevice(8192))
    put(sys, "firmware/dmi/entries/17-1/raw", memoryDevice(0x7fff, 32768))
    put(sys, "firmware/dmi/entries/17-2/raw", memoryDevice(0))
    put(sys, "firmware/dmi/entries/17-3/raw", memoryDevice(0x8000 | 2048))
    put(sys, "firmware/dmi/entries/16-0/raw", Buffer.alloc(0x17))
  } else {
    put(sys, "devices/system/memory/block_size_bytes", "8000000\n")
    for (let i = 0; i < 5; i++) put(sys, `devices/system/memory/memory${i}/online`, i < 4 ? "1\n" : "0\n")
  }
  put(sys, "block/vda/size", `${(10 * GiB) / 512}\n`)
  put(sys, "block/vda/serial", "VDA-SERIAL\n")
  put(sys, "block/vda/queue/rotational", "0\n")
  put(sys, "block/sda/size", `${(40 * GiB) / 512}\n`)
  put(sys, "block/sda/device/model", "QEMU HARDDISK   \n")
  put(sys, "block/sda/device/vendor", "ATA     \n")
  put(sys, "block/sda/device/serial", "QM00001\n")
  put(sys, "block/sda/device/wwid", "naa.5000c500aaaa0001\n")
  put(sys, "block/sda/queue/rotational", "1\n")
  put(sys, "block/loop0/size", "0\n")
  put(sys, "class/net/lo/address", "00:00:00:00:00:00\n")
  put(sys, "class/net/eth0/address", "52:54:00:12:34:56\n")
  put(sys, "class/net/eth0/carrier", "1\n")
  put(sys, "class/net/eth1/address", "52:54:00:12:34:57\n")
  put(sys, "class/dmi/id/sys_vendor", "QEMU\n")
  put(sys, "class/dmi/id/product_name", "Standard PC (i440FX + PIIX, 1996)\n")
  put(sys, "class/dmi/id/product_serial", 'SN "7" \\ end\n')
  if (dmiMemory) mkdirSync(join(sys, "firmware/efi"), { recursive: true })
  return { sys, proc }
}

/** The agent's own json_string, then inventory.sh, run by busybox's sh with only busybox on the PATH. */
const gather = (tree: { sys: string; proc: string }) => {
  const agent = readFileSync(join(agentDir, "agent.sh"), "utf8")
  const jsonString = agent.slice(agent.indexOf("json_string() {"), agent.indexOf("\n}\n", agent.indexOf("json_string() {")) + 3)
  const script = [jsonString, `. ${join(agentDir, "inventory.sh")}`, "inventory_json"].join("\n")
  const out = execFileSync(join(work, "bin", "sh"), ["-c", script], {
    encoding: "utf8",
    env: { PATH: join(work, "bin"), SYS: tree.sys, PROC: tree.proc, ARCH: "x86_64", BOOTIF: "01-52-54-00-12-34-56" },
  })
  return JSON.parse(out) as Record<string, any>
}

test("the agent's inventory: CPUs, DMI memory, disks, NICs, vendor and boot mode, in the shape the service takes", () => {
  const inv = gather(machineTree("dmi", true))
  assert.deepEqual(inv, {
    cpu: { count: 3, architecture: "x86_64", model_name: "QEMU Virtual CPU version 2.5+" },
    // 8192 + 32768 (extended size) + 2 (KiB granularity); the empty slot counts nothing. Not MemTotal.
    memory: { physical_mb: 40962, total: 3906128 * 1024 },
    disks: [
      { name: "sda", size: 40 * GiB, model: "QEMU HARDDISK", serial: "QM00001", wwn: "naa.5000c500aaaa0001", vendor: "ATA", rotational: true },
      { name: "vda", size: 10 * GiB, model: null, serial: "VDA-SERIAL", wwn: null, vendor: null, rotational: false },
    ],
    interfaces: [
      { name: "eth0", mac_address: "52:54:00:12:34:56", has_carrier: true },
      { name: "eth1", mac_address: "52:54:00:12:34:57", has_carrier: false },
    ],
    // No BMC here (and no ipmitool on this PATH): ramdisk-agent-discovery.test.ts reads a real one.
    bmc_address: null,
    system_vendor: { manufacturer: "QEMU", product_name: "Standard PC (i440FX + PIIX, 1996)", serial_number: 'SN "7" \\ end' },
    boot: { current_boot_mode: "uefi", pxe_interface: "52:54:00:12:34:56" },
  })
  const parsed = parseInventory(inv)
  assert.ok(E.isRight(parsed), E.isLeft(parsed) ? parsed.left : "")
  // The root disk is the smallest of at least 4 GiB (vda, 10 GiB), as the agent picks its install disk.
  assert.deepEqual(inspectedProperties(parsed.right, {}), { cpus: 3, cpu_arch: "x86_64", memory_mb: 40962, local_gb: 10 })
  assert.equal(inspectedProperties(parsed.right, { root_device: { serial: "QM00001" } })["local_gb"], 40)
  // The disk the ramdisk names (its own hints and minimum) wins over the service's pick.
  assert.equal(inspectedProperties(parsed.right, {}, "sda")["local_gb"], 40)
  assert.equal(inspectedProperties(parsed.right, {}, "sdz")["local_gb"], 10)
})

test("without DMI memory devices the memory is the kernel's online memory blocks, still not MemTotal; no EFI is bios", () => {
  const inv = gather(machineTree("blocks", false))
  assert.equal(inv["memory"].physical_mb, 4 * 128)
  assert.equal(inv["boot"].current_boot_mode, "bios")
})

/** Runs the agent's inspect_if_asked against a server answering `status`; what it posted and printed. */
const offer = async (status: number) => {
  const posted: Array<Record<string, any>> = []
  const server = createServer((req, res) => {
    let body = ""
    req.on("data", (d) => { body += d })
    req.on("end", () => {
      posted.push({ url: req.url, version: req.headers["x-openstack-ironic-api-version"], ...JSON.parse(body) })
      res.writeHead(status, { "content-type": "application/json" }).end(status === 202 ? "" : '{"error_message":"{}"}')
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  const port = (server.address() as { port: number }).port
  const tree = machineTree(`offer-${status}`, true)
  const agent = readFileSync(join(agentDir, "agent.sh"), "utf8")
  const fn = (name: string) => agent.slice(agent.indexOf(`${name}() {`), agent.indexOf("\n}\n", agent.indexOf(`${name}() {`)) + 3)
  const script = ['log() { echo "agent: $*"; }', fn("json_string"), `. ${join(agentDir, "steps.sh")}`, `. ${join(agentDir, "inventory.sh")}`,
    // The install disk as the agent's pick_disk names it (its rule is the deploy's, tested with the deploy).
    "pick_disk() { echo vda; }", "mkdir -p /run", fn("inspect_if_asked"), "inspect_if_asked", "echo went-on"].join("\n")
  const child = spawn(join(work, "bin", "sh"), ["-c", script], {
    detached: true,
    env: { PATH: join(work, "bin"), SYS: tree.sys, PROC: tree.proc, ARCH: "x86_64", API_URL: `http://127.0.0.1:${port}/`, NODE: "n-1", KEY: 'k"1' },
  })
  let out = ""
  child.stdout.on("data", (d) => { out += d })
  try {
    for (let i = 0; i < 200 && !/went-on|inventory accepted/.test(out); i++) await new Promise((r) => setTimeout(r, 50))
    return { posted, out }
  } finally {
    try { process.kill(-child.pid!, "SIGKILL") } catch { /* ended */ }
    server.close()
  }
}

// agent_call keeps wget's errors in /run, as in the ramdisk, where it is writable.
const skipOffer = process.getuid?.() === 0 ? false : "needs root (writes /run/step.err)"

test("the agent offers its inventory with its key: 404 goes on with the deploy, 202 ends there", { timeout: 30_000, skip: skipOffer }, async () => {
  const notInspecting = await offer(404)
  assert.match(notInspecting.out, /went-on/)
  assert.equal(notInspecting.posted.length, 1)
  const taken = await offer(202)
  assert.match(taken.out, /inventory accepted/)
  assert.doesNotMatch(taken.out, /went-on/)
  assert.equal(taken.posted.length, 1)
  const [p] = taken.posted
  assert.equal(p!["url"], "/v1/nodes/n-1/vendor_passthru/inventory")
  assert.equal(p!["version"], "1.78")
  assert.equal(p!["key"], 'k"1')
  assert.equal(p!["inventory"].memory.physical_mb, 40962)
  assert.equal(p!["root_disk"], "vda")
  assert.ok(E.isRight(parseInventory(p!["inventory"])))
})
