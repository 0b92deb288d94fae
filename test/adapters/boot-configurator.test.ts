// Runs the BootConfigurator contract against the PXE adapter (a temp TFTP root served by a real
// dnsmasq on 127.0.0.1, read back over TFTP with curl) and the in-memory simulator; then the PXE
// tree's own rules (hard links, atomic replacement) and the managed dnsmasq (hosts reload, pid
// file, failures). Needs root: TFTP is port 69.
import { execFile, spawn, spawnSync } from "node:child_process"
import { randomBytes, randomUUID } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, closeSync, rmSync, statSync, writeFileSync, lstatSync, symlinkSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as E from "fp-ts/lib/Either.js"
import { PxeBootConfigurator, makePxeBootConfigurator } from "../../src/adapters/pxe/pxe-boot-configurator.ts"
import { startDnsmasq, type Dnsmasq, type DnsmasqFailed } from "../../src/adapters/pxe/dnsmasq.ts"
import { renderDnsmasqConf, renderHostsFile } from "../../src/adapters/pxe/dnsmasq-config.ts"
import { coalesce } from "../../src/adapters/pxe/configurator.ts"
import { parsePxeConfig, renderPxeConfig, switchedToBoot, switchedToRescue, type PxeConfig } from "../../src/adapters/pxe/pxelinux-config.ts"
import { makeSimBoot, SimBootConfigurator } from "../../src/adapters/sim/boot.ts"
import type { Iqn, Mac, Uuid } from "../../src/domain/values.ts"
import type { BootConfigurator, DeployBoot } from "../../src/ports/boot-configurator.ts"
import { assertSameBytes, bootConfiguratorContract, readPxelinux } from "./boot-configurator.contract.ts"

const LOOPBACK = "127.0.0.1"
const DHCP_PORT = 1067
// Fixed, so that a dnsmasq left by a crashed run of this file is found and stopped on the next run.
const PID_FILE = join(tmpdir(), "ironledger-test-boot-configurator.dnsmasq.pid")
const CURL_TFTP_NOT_FOUND = 68

/** Fetches a file the way a PXE client does: over TFTP. null when the server has no such file. */
const tftpGet = (path: string): Promise<Buffer | null> =>
  new Promise((resolve, reject) => {
    execFile("curl", ["-s", "-S", "--max-time", "5", `tftp://${LOOPBACK}/${path}`], { encoding: "buffer", maxBuffer: 64 << 20, timeout: 8000 },
      (error, stdout, stderr) => {
        if (error === null) return resolve(stdout)
        if ((error as { code?: unknown }).code === CURL_TFTP_NOT_FOUND) return resolve(null)
        reject(new Error(`tftp ${path}: ${stderr.toString().trim() || error.message}`))
      })
  })

/** Every file and link under `root`, relative, sorted. */
const walk = (root: string, dir = root): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(root, join(dir, d.name)) : [relative(root, join(dir, d.name))]).sort()

const lstatExists = (path: string) => { try { lstatSync(path); return true } catch { return false } }

const isAlive = (pid: number) => {
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8")) } catch { return false }
}

const work = mkdtempSync(join(tmpdir(), "ironledger-pxe-"))
chmodSync(work, 0o755) // dnsmasq reads the tree as "nobody"
const tftpRoot = join(work, "tftp")
const stateDir = join(work, "dnsmasq")
const bootloader = join(work, "pxelinux.0")
let scope: Scope.Closeable | null = null
let dnsmasq: Dnsmasq
let leftoverPid = 0

before(async () => {
  writeFileSync(bootloader, randomBytes(42_000))
  // A dnsmasq from a "crashed" earlier run: daemonised, bound to 127.0.0.1:69, its pid in PID_FILE.
  const stale = join(work, "stale")
  mkdirSync(stale, { mode: 0o755 })
  chmodSync(stale, 0o755)
  // Kept in the foreground as our child (not daemonised) so that its exit is reaped, not left a zombie.
  const leftover = spawn("dnsmasq", ["--keep-in-foreground", "--port=0", "--enable-tftp", `--tftp-root=${stale}`, `--listen-address=${LOOPBACK}`,
    "--bind-interfaces", `--pid-file=${PID_FILE}`, `--log-facility=${join(work, "stale.log")}`], { stdio: "ignore" })
  leftover.unref()
  leftoverPid = leftover.pid ?? 0
  const deadline = Date.now() + 5000
  while (!(existsSync(PID_FILE) && Number(readFileSync(PID_FILE, "utf8")) === leftoverPid)) {
    if (Date.now() > deadline) throw new Error("the stand-in leftover dnsmasq did not start")
    await new Promise((r) => setTimeout(r, 20))
  }
  scope = await Effect.runPromise(Scope.make())
  dnsmasq = await Effect.runPromise(Scope.provide(scope)(startDnsmasq({
    tftpRoot, stateDir, pidFile: PID_FILE, bootloaderFiles: [bootloader],
    mode: { kind: "loopback", listenAddress: LOOPBACK, dhcpPort: DHCP_PORT },
  })))
})

after(async () => {
  if (scope !== null) await Effect.runPromise(Scope.close(scope, Exit.void))
  if (leftoverPid > 0 && isAlive(leftoverPid)) process.kill(leftoverPid, "SIGKILL")
  rmSync(work, { recursive: true, force: true })
})

bootConfiguratorContract("PXE (TFTP tree served by dnsmasq)", async () => ({
  layer: PxeBootConfigurator({ tftpRoot, dnsmasq }),
  fetchConfig: async (mac) => (await tftpGet(`pxelinux.cfg/01-${mac.toLowerCase().replace(/:/g, "-")}`))?.toString("utf8") ?? null,
  fetchFile: (nodeId, name) => tftpGet(`${nodeId}/${name}`),
  entries: async () => walk(tftpRoot),
}))

bootConfiguratorContract("simulator (in memory)", async () => {
  const sim = makeSimBoot()
  return {
    layer: SimBootConfigurator(sim),
    fetchConfig: async (mac) => sim.configForMac(mac),
    fetchFile: async (nodeId, name) => {
      const source = sim.imageSource(nodeId, name as "kernel")
      return source === null ? null : readFile(source)
    },
    entries: async () => sim.entries(),
  }
})

const mac = () => ["52", ...Array.from(randomBytes(5), (b) => b.toString(16).padStart(2, "0"))].join(":")

describe("PXE tree on disk", () => {
  let port: BootConfigurator["Service"]
  let images: string
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
  const node = (overrides: Partial<DeployBoot> = {}): DeployBoot => {
    const id = randomUUID()
    return {
      nodeId: id, macs: [mac(), mac()],
      deployKernel: join(images, "deploy_kernel"), deployRamdisk: join(images, "deploy_ramdisk"),
      kernel: join(images, "kernel"), ramdisk: join(images, "ramdisk"),
      deployId: id, deployKey: randomBytes(24).toString("base64url"), iscsiIqn: `iqn.2026-11.org.ironledger:${id}`,
      apiUrl: "http://127.0.0.1:6385", ...overrides,
    }
  }

  before(async () => {
    images = join(work, "images")
    mkdirSync(images)
    for (const name of ["deploy_kernel", "deploy_ramdisk", "kernel", "ramdisk"]) writeFileSync(join(images, name), randomBytes(20_000))
    port = await makePxeBootConfigurator({ tftpRoot, dnsmasq })
  })

  test("MAC links are relative symlinks to the node's config; images are hard links of their source", async () => {
    const a = node()
    await run(port.prepareDeploy(a))
    for (const m of a.macs) assert.equal(readlinkSync(join(tftpRoot, "pxelinux.cfg", `01-${m.replace(/:/g, "-")}`)), `../${a.nodeId}/config`)
    for (const name of ["deploy_kernel", "deploy_ramdisk", "kernel", "ramdisk"]) {
      const placed = statSync(join(tftpRoot, a.nodeId, name))
      assert.equal(placed.ino, statSync(join(images, name)).ino, `${name} is not a hard link of its source`)
    }
    assert.equal(statSync(join(tftpRoot, a.nodeId, "config")).mode & 0o777, 0o644)
  })

  test("an image on another filesystem is copied (EXDEV) and served whole", async () => {
    const shm = mkdtempSync("/dev/shm/ironledger-pxe-")
    try {
      const kernel = join(shm, "deploy_kernel")
      writeFileSync(kernel, randomBytes(33_333))
      assert.notEqual(statSync(shm).dev, statSync(tftpRoot).dev, "the test needs /dev/shm on another filesystem")
      const a = node({ deployKernel: kernel })
      await run(port.prepareDeploy(a))
      const placed = statSync(join(tftpRoot, a.nodeId, "deploy_kernel"))
      assert.notEqual(placed.ino, statSync(kernel).ino)
      assert.equal(placed.mode & 0o777, 0o644)
      assertSameBytes(await tftpGet(`${a.nodeId}/deploy_kernel`), readFileSync(kernel), "deploy_kernel")
    } finally {
      rmSync(shm, { recursive: true, force: true })
    }
  })

  test("a config rewrite replaces the file: a reader of the old one still reads a whole old config", async () => {
    const a = node()
    await run(port.prepareDeploy(a))
    const path = join(tftpRoot, a.nodeId, "config")
    const fd = openSync(path, "r")
    try {
      await run(port.switchToBoot(a.nodeId, randomUUID()))
      const buffer = Buffer.alloc(64 * 1024)
      const old = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString("utf8")
      assert.equal(readPxelinux(old).defaultLabel, "deploy")
      assert.equal(readPxelinux(old).label("deploy").args.get("deployment_key"), a.deployKey)
      assert.equal(readPxelinux(readFileSync(path, "utf8")).defaultLabel, "boot")
    } finally {
      closeSync(fd)
    }
    const link = join(tftpRoot, "pxelinux.cfg", `01-${a.macs[0]!.replace(/:/g, "-")}`)
    const linkBefore = lstatSync(link).ino
    await run(port.prepareDeploy({ ...a, deployKey: randomBytes(24).toString("base64url") }))
    assert.notEqual(lstatSync(link).ino, linkBefore, "the link was not replaced by a new one")
    assert.ok(!walk(tftpRoot).some((e) => e.includes(".tmp-")))
  })

  test("opening the tree drops links to nodes without a config and records links a node's record lacks; clean then finds them", async () => {
    const cfg = join(tftpRoot, "pxelinux.cfg")
    const linkOf = (m: string) => join(cfg, `01-${m.replace(/:/g, "-")}`)
    const a = node()
    await run(port.prepareDeploy(a))
    // A link made before records existed (or by a crash between link and record), and debris.
    const unrecorded = mac()
    symlinkSync(`../${a.nodeId}/config`, linkOf(unrecorded))
    const debris = mac()
    symlinkSync(`../${randomUUID()}/config`, linkOf(debris))
    const foreign = mac()
    symlinkSync("../somewhere-else/config", linkOf(foreign))
    const reopened = await makePxeBootConfigurator({ tftpRoot, dnsmasq })
    assert.ok(!existsSync(linkOf(debris)) && !lstatExists(linkOf(debris)), "a link to a node without a config is left")
    assert.ok(lstatExists(linkOf(foreign)), "a link that names no node of ours is not ours to remove")
    await run(reopened.clean(a.nodeId, []))
    for (const m of [...a.macs, unrecorded]) assert.ok(!lstatExists(linkOf(m)), `${m} still boots the cleaned node`)
    rmSync(linkOf(foreign))
  })

  test("two nodes claiming one free MAC at once: exactly one gets it, the other is refused", async () => {
    const shared = mac()
    const [a, b] = [node({ macs: [shared] }), node({ macs: [shared] })]
    const results = await Promise.all([a, b].map((n) => Effect.runPromise(Effect.result(port.prepareDeploy(n)))))
    assert.deepEqual(results.map((r) => r._tag).sort(), ["Failure", "Success"])
    const winner = results[0]!._tag === "Success" ? a : b
    assert.equal(readlinkSync(join(tftpRoot, "pxelinux.cfg", `01-${shared.replace(/:/g, "-")}`)), `../${winner.nodeId}/config`)
    for (const n of [a, b]) await run(port.clean(n.nodeId, n.macs))
  })

  test("a missing image source is refused and nothing is written", async () => {
    const before = walk(tftpRoot)
    const a = node({ ramdisk: join(images, "no-such-file") })
    const e = await run(Effect.flip(port.prepareDeploy(a)))
    assert.equal(e._tag, "BootConfigFailed")
    assert.match(e.reason, /ramdisk/)
    assert.deepEqual(walk(tftpRoot), before)
  })
})

describe("managed dnsmasq", () => {
  // What dnsmasq was given: the hosts file and the files of MACs added since (the hosts directory).
  const hostsDir = () => dnsmasq.files.hostsDir!
  const hostsLines = () => [dnsmasq.files.hosts, ...readdirSync(hostsDir()).filter((n) => !n.startsWith(".")).map((n) => join(hostsDir(), n))]
    .flatMap((path) => readFileSync(path, "utf8").split("\n").filter((l) => l !== ""))
  const logLines = () => readFileSync(dnsmasq.files.log, "utf8").split("\n")
  /** Full reloads: the hosts file read again. */
  const reads = () => logLines().filter((l) => l.endsWith(`read ${dnsmasq.files.hosts}`)).length
  /** Files of the hosts directory read (each alone, by inotify). */
  const dirReads = () => logLines().filter((l) => l.includes(`read ${hostsDir()}/`)).length
  const linkedMacs = () => readdirSync(join(tftpRoot, "pxelinux.cfg")).filter((n) => n.startsWith("01-")).map((n) => n.slice(3).replace(/-/g, ":")).sort()

  test("a dnsmasq left by a crashed run is stopped through the pid file; ours serves 127.0.0.1:69 with DNS off", async () => {
    assert.ok(leftoverPid > 0 && !isAlive(leftoverPid), `the leftover dnsmasq ${leftoverPid} still runs`)
    assert.ok(isAlive(dnsmasq.pid))
    assert.equal(Number(readFileSync(PID_FILE, "utf8")), dnsmasq.pid)
    assert.match(readFileSync(dnsmasq.files.log, "utf8"), /started, version .* DNS disabled/)
    assert.ok(readFileSync("/proc/net/udp", "utf8").includes("0100007F:0045"), "nothing listens on 127.0.0.1:69")
  })

  test("bootloader files are installed in the TFTP root", async () => {
    assertSameBytes(await tftpGet("pxelinux.0"), readFileSync(bootloader), "pxelinux.0")
  })

  test("the DHCP hosts file lists exactly the MACs that boot, and dnsmasq re-reads it on each change", async () => {
    const port = await makePxeBootConfigurator({ tftpRoot, dnsmasq })
    const images = join(work, "dhcp-images")
    mkdirSync(images)
    writeFileSync(join(images, "k"), "k")
    const id = randomUUID()
    const a: DeployBoot = {
      nodeId: id, macs: [mac(), mac()], deployKernel: join(images, "k"), deployRamdisk: join(images, "k"), kernel: null, ramdisk: null,
      deployId: id, deployKey: randomBytes(24).toString("base64url"), iscsiIqn: `iqn.2026-11.org.ironledger:${id}`, apiUrl: "http://127.0.0.1:6385",
    }
    const before = reads()
    const dirBefore = dirReads()
    await Effect.runPromise(port.prepareDeploy(a))
    // Adding MACs reads their own files, not the whole list again.
    assert.equal(reads(), before, "a deploy reloaded every host")
    for (const m of a.macs) assert.ok(logLines().some((l) => l.endsWith(`read ${join(hostsDir(), m.replace(/:/g, "-"))}`)), `dnsmasq did not read ${m}'s file`)
    assert.ok(dirReads() >= dirBefore + a.macs.length)
    for (const m of a.macs) assert.ok(hostsLines().includes(m), `${m} is not in the hosts file`)
    assert.deepEqual(hostsLines().map((l) => l.split(",")[0]).sort(), linkedMacs())
    // Removing needs a full reload, which also empties the directory into the hosts file.
    await Effect.runPromise(port.clean(a.nodeId, a.macs))
    assert.equal(reads(), before + 1)
    assert.deepEqual(readdirSync(hostsDir()), [])
    for (const m of a.macs) assert.ok(!hostsLines().some((l) => l.startsWith(m)), `${m} is still in the hosts file`)
    assert.deepEqual(hostsLines().map((l) => l.split(",")[0]).sort(), linkedMacs())
    // A switch changes no link: no reload.
    assert.equal(reads(), before + 1)
  })

  test("concurrent changes share DHCP reloads, and the last one sees every link", async () => {
    const port = await makePxeBootConfigurator({ tftpRoot, dnsmasq })
    const k = join(work, "burst-k")
    writeFileSync(k, "k")
    const nodes = Array.from({ length: 12 }, (): DeployBoot => {
      const id = randomUUID()
      return {
        nodeId: id, macs: [mac()], deployKernel: k, deployRamdisk: k, kernel: null, ramdisk: null, deployId: id,
        deployKey: randomBytes(24).toString("base64url"), iscsiIqn: `iqn.2026-11.org.ironledger:${id}`, apiUrl: "http://127.0.0.1:6385",
      }
    })
    const before = reads()
    await Effect.runPromise(Effect.forEach(nodes, (n) => port.prepareDeploy(n), { concurrency: "unbounded" }))
    assert.equal(reads(), before, "adding MACs reloaded every host")
    assert.deepEqual(hostsLines().map((l) => l.split(",")[0]).sort(), linkedMacs())
    await Effect.runPromise(Effect.forEach(nodes, (n) => port.clean(n.nodeId, n.macs), { concurrency: "unbounded" }))
    const rounds = reads() - before
    assert.ok(rounds >= 1 && rounds < nodes.length, `${rounds} reloads for ${nodes.length} concurrent removals`)
    assert.deepEqual(hostsLines().map((l) => l.split(",")[0]).sort(), linkedMacs())
  })

  test("a second server on the same loopback ports is refused, not started beside the first", async () => {
    const other = join(work, "other")
    const attempt = Effect.scoped(startDnsmasq({
      tftpRoot, stateDir: other, pidFile: join(other, "dnsmasq.pid"),
      mode: { kind: "loopback", listenAddress: LOOPBACK, dhcpPort: DHCP_PORT },
    }))
    const e: DnsmasqFailed = await Effect.runPromise(Effect.flip(attempt))
    assert.equal(e._tag, "DnsmasqFailed")
    assert.match(e.reason, /in use/i)
    const pids = spawnSync("pgrep", ["-f", `--conf-file=${join(other, "dnsmasq.conf")}`], { encoding: "utf8" }).stdout.trim()
    assert.equal(pids, "")
  })

  test("network-mode configs pass dnsmasq's own syntax check", () => {
    const files = { tftpRoot, conf: "/x/c", hosts: join(work, "h"), leases: "/x/l", pid: "/x/p", log: "/x/g" }
    writeFileSync(files.hosts, "")
    const range = renderDnsmasqConf({ kind: "network", interface: "eth1", dhcp: { kind: "range", start: "10.9.0.10", end: "10.9.0.200", netmask: "255.255.255.0", leaseTime: "1h" } }, files)
    const proxy = renderDnsmasqConf({ kind: "network", interface: "eth1", dhcp: { kind: "proxy", subnet: "10.9.0.0" }, onlyKnownMacs: false }, files)
    assert.ok(E.isRight(range) && E.isRight(proxy))
    assert.match(range.right, /^dhcp-boot=pxelinux\.0$/m)
    assert.match(range.right, /^dhcp-ignore=tag:!known$/m)
    assert.match(proxy.right, /^pxe-service=x86PC,"ironledger",pxelinux$/m)
    assert.doesNotMatch(proxy.right, /dhcp-ignore/)
    for (const text of [range.right, proxy.right]) {
      const conf = join(work, "check.conf")
      writeFileSync(conf, text)
      const out = spawnSync("dnsmasq", ["--test", `--conf-file=${conf}`], { encoding: "utf8", timeout: 5000 })
      assert.equal(out.status, 0, out.stderr)
      assert.match(out.stderr + out.stdout, /syntax check OK/)
    }
    // Values that would add a directive are refused.
    assert.ok(E.isLeft(renderDnsmasqConf({ kind: "network", interface: "eth1\ndhcp-script=/bin/sh", dhcp: { kind: "proxy", subnet: "10.9.0.0" } }, files)))
    assert.ok(E.isLeft(renderDnsmasqConf({ kind: "loopback", listenAddress: "10.0.0.1", dhcpPort: DHCP_PORT }, files)))
    assert.ok(E.isLeft(renderDnsmasqConf({ kind: "loopback", listenAddress: LOOPBACK, dhcpPort: DHCP_PORT }, { ...files, log: "/x/a b" })))
  })

  test("the hosts file carries fixed addresses and ignored MACs as configured", () => {
    const hosts = renderHostsFile(["52:54:00:00:00:02", "52:54:00:00:00:01"] as Mac[], {
      fixedAddresses: { "52-54-00-00-00-02": "10.9.0.12" }, ignoredMacs: ["52:54:00:00:00:99"],
    })
    assert.deepEqual(hosts, E.right("52:54:00:00:00:99,ignore\n52:54:00:00:00:01\n52:54:00:00:00:02,10.9.0.12\n"))
    // A value that would smuggle a second line or a bad MAC is refused.
    assert.ok(E.isLeft(renderHostsFile([], { fixedAddresses: { "52:54:00:00:00:01": "10.0.0.1\nenable-ra" } })))
    assert.ok(E.isLeft(renderHostsFile([], { ignoredMacs: ["52:54:00:00:00:zz"] })))
  })

  test("closing the scope stops dnsmasq and TFTP with it", async () => {
    const pid = dnsmasq.pid
    await Effect.runPromise(Scope.close(scope!, Exit.void))
    scope = null
    assert.ok(!isAlive(pid))
    assert.ok(!existsSync(PID_FILE))
    assert.ok(!readFileSync("/proc/net/udp", "utf8").includes("0100007F:0045"), "127.0.0.1:69 is still bound")
  })
})

describe("coalesced runs", () => {
  test("calls made while a run is under way share the next run, which starts after them", async () => {
    let started = 0
    let release: () => void = () => {}
    const run = coalesce(() => { started++; return new Promise<void>((r) => { release = r }) })
    const first = run()
    await new Promise((r) => setImmediate(r))
    assert.equal(started, 1)
    const later = [run(), run(), run()]
    release()
    await first
    await new Promise((r) => setImmediate(r))
    assert.equal(started, 2, "the calls made during the first run did not get a run of their own")
    release()
    await Promise.all(later)
    assert.equal(started, 2)
  })

  test("a failed run fails its callers and not the next ones", async () => {
    let calls = 0
    const run = coalesce(async () => { if (++calls === 1) throw new Error("reload failed") })
    await assert.rejects(run(), /reload failed/)
    await run()
    assert.equal(calls, 2)
  })
})

describe("pxelinux config rendering", () => {
  const id = randomUUID() as Uuid
  const deploying: PxeConfig = {
    nodeId: id, defaultLabel: "deploy",
    deploy: { deployId: "d-1", deployKey: "k".repeat(32), iscsiIqn: `iqn.2026-11.org.ironledger:${id}` as Iqn, apiUrl: "http://127.0.0.1:6385" },
    boot: { kind: "netboot", rootUuid: null },
  }

  test("every state reads back as written, with or without extra kernel arguments", () => {
    const booted = switchedToBoot(deploying, randomUUID() as Uuid)
    assert.ok(E.isRight(booted))
    const states = [deploying, booted.right, switchedToRescue(deploying), switchedToRescue(deploying, "rescue-key-1"), { ...deploying, boot: { kind: "local" } } as PxeConfig]
    for (const config of states) {
      assert.deepEqual(parsePxeConfig(renderPxeConfig(config)), E.right(config))
      assert.deepEqual(parsePxeConfig(renderPxeConfig(config, "console=ttyS0,115200 nomodeset")), E.right(config))
    }
  })

  test("extra kernel arguments go on every label", () => {
    const text = renderPxeConfig(deploying, "console=ttyS0,115200")
    const pxe = readPxelinux(text)
    for (const name of ["deploy", "boot", "rescue"]) assert.equal(pxe.label(name).args.get("console"), "ttyS0,115200")
  })

  test("a file that is not ours is refused", () => {
    assert.ok(E.isLeft(parsePxeConfig("default local\nlabel local\nlocalboot 0\n")))
    assert.ok(E.isLeft(parsePxeConfig(renderPxeConfig(deploying).replace(/node_uuid=\S+/, "node_uuid=../x"))))
  })
})
