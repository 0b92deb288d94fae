// The simulated machine (src/adapters/sim/machine) against the real servers it talks to: a managed
// dnsmasq serving a TFTP tree on its own 127.x address, tgtd, libiscsi's iscsi-ls, qemu-img through
// the iSCSI BlockWriter, and ipmi_sim for power. A node:http server stands in for the API and
// records the pass_deploy_info calls. Needs root (TFTP port 69, tgtd).
import { execFile, spawn, type ChildProcess } from "node:child_process"
import { randomBytes, randomUUID } from "node:crypto"
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs"
import { createServer, type Server } from "node:http"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as E from "fp-ts/lib/Either.js"
import { computeLayout, encodeMbr, GiB, MiB } from "../../src/domain/partition.ts"
import type { Iqn } from "../../src/domain/values.ts"
import { iscsiBlockWriter } from "../../src/adapters/iscsi/index.ts"
import { startDnsmasq, type Dnsmasq } from "../../src/adapters/pxe/dnsmasq.ts"
import { makePxeBootConfigurator } from "../../src/adapters/pxe/pxe-boot-configurator.ts"
import { releaseOverTcp } from "../../src/adapters/ramdisk/tcp.ts"
import { startBmc } from "../../src/adapters/sim/bmc/launcher.ts"
import { freeTcpPort, freeUdpPort } from "../../src/adapters/sim/bmc/free-port.ts"
import { parseMachineConfig } from "../../src/adapters/sim/machine/config.ts"
import { readStatus, type MachineState, type MachineStatus } from "../../src/adapters/sim/machine/status.ts"
import {
  MACHINE_PROGRAM, NODE_BIN, TOO_SMALL_DISK_BYTES, machineAddress, machineMac, machineStartCmd, machineTgtdControlPort, writeMachineConfig,
  type MachineSpec,
} from "../../src/adapters/sim/machine/spawn.ts"
import { controlSocketPath as tgtSocketPath } from "../../src/adapters/sim/tgt/account.ts"
import type { BlockTarget } from "../../src/ports/block-writer.ts"

const TFTP_ADDRESS = "127.0.71.1"
const DHCP_PORT = 1167
// Fixed, so that a dnsmasq left by a crashed run of this file is stopped by the next run.
const DNSMASQ_PID = join(tmpdir(), "ironledger-test-machine-sim.dnsmasq.pid")
const RELEASE_PORT = 10000
const API_VERSION_HEADER = "x-openstack-ironic-api-version"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const isAlive = (pid: number) => {
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8")) } catch { return false }
}
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

const work = mkdtempSync(join(tmpdir(), "ironledger-machine-sim-"))
chmodSync(work, 0o755) // dnsmasq serves the tree as "nobody"
const tftpRoot = join(work, "tftp")
const images = join(work, "images")
let scope: Scope.Closeable | null = null
let dnsmasq: Dnsmasq

// ---- the API stand-in ----------------------------------------------------------------------------

interface Post { readonly path: string; readonly headers: Record<string, string | string[] | undefined>; readonly body: Record<string, unknown> }
const posts: Post[] = []
let api: Server
let apiUrl = ""

const postsFor = (nodeUuid: string) => posts.filter((p) => p.path === `/v1/nodes/${nodeUuid}/vendor_passthru/pass_deploy_info`)
/** Nodes the stand-in API is inspecting: it takes their inventory (202); any other's is a 404, as the service answers. */
const inspecting = new Set<string>()

// ---- machines ------------------------------------------------------------------------------------

interface Running { readonly child: ChildProcess; readonly exited: Promise<{ code: number | null; signal: string | null }> }
const groups = new Set<number>()
const controlPorts = new Set<number>()
let machineCount = 0

interface TestMachine {
  readonly name: string
  readonly mac: string
  readonly address: string
  readonly iscsiPort: number
  readonly stateDir: string
  readonly diskPath: string
  readonly configPath: string
  /** The latest power on. */
  boot?: Running
}

const newMac = () => ["52", "54", ...Array.from(randomBytes(4), (b) => b.toString(16).padStart(2, "0"))].join(":")

const newMachine = async (overrides: Partial<MachineSpec> = {}): Promise<TestMachine> => {
  machineCount += 1
  const name = `m${machineCount}`
  const address = `127.0.72.${machineCount}`
  let controlPort: number
  do controlPort = 21000 + Math.floor(Math.random() * 9000)
  while (existsSync(tgtSocketPath(controlPort)) || controlPorts.has(controlPort))
  controlPorts.add(controlPort)
  // A port of its own rather than 3260: a tgtd elsewhere on 0.0.0.0:3260 would block every 127.x:3260.
  const iscsiPort = await freeTcpPort(address)
  const written = writeMachineConfig(join(work, "machines", name), {
    name, mac: newMac(), address, diskBytes: GiB + 16 * MiB, tgtdControlPort: controlPort, iscsiPort,
    tftpServer: TFTP_ADDRESS, releasePort: RELEASE_PORT, tftpTimeoutMs: 3000, callbackTimeoutMs: 5000, rebootDelayMs: 100,
    ...overrides,
  })
  return {
    name, mac: written.config.mac, address, iscsiPort, stateDir: written.config.stateDir,
    diskPath: written.config.diskPath, configPath: written.configPath,
  }
}

const powerOn = (m: TestMachine): Running => {
  const log = openSync(join(m.stateDir, "..", "stdout.log"), "a")
  // detached: its own process group (shared with its tgtd), killed as one by the clean-up.
  const child = spawn(NODE_BIN, ["--disable-warning=ExperimentalWarning", MACHINE_PROGRAM, "--config", m.configPath], {
    detached: true, stdio: ["ignore", log, log],
  })
  closeSync(log)
  if (child.pid !== undefined) groups.add(child.pid)
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })))
  m.boot = { child, exited }
  return m.boot
}

const within = <A>(ms: number, what: string, p: Promise<A>): Promise<A> =>
  Promise.race([p, sleep(ms).then(() => { throw new Error(`${what}: not within ${ms} ms`) })])

/** Waits for `state`; a machine that fails first fails the wait with its reason. */
const waitFor = async (m: TestMachine, state: MachineState, ms = 15_000, pid = m.boot?.child.pid): Promise<MachineStatus> => {
  const deadline = performance.now() + ms
  for (;;) {
    const found = readStatus(m.stateDir)
    // Only this boot's status counts: an earlier boot's file stays until the new one writes.
    const s = found !== null && found.pid === pid ? found : null
    if (s?.state === state) return s
    if (s?.state === "failed" && state !== "failed") throw new Error(`machine ${m.name} failed: ${s.reason}`)
    if (performance.now() > deadline) throw new Error(`machine ${m.name} not ${state} within ${ms} ms (now ${s?.state ?? "no status"})`)
    await sleep(25)
  }
}

const tgtdPid = (m: TestMachine): number => JSON.parse(readFileSync(join(m.stateDir, "tgtd.pid"), "utf8")).pid

const portalAccepts = (address: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: address, port })
    s.once("connect", () => { s.destroy(); resolve(true) })
    s.once("error", () => resolve(false))
  })

/** iscsi-ls -s over the portal; the CHAP secret goes through libiscsi's environment variable, not argv. */
const iscsiLs = (m: TestMachine, chap: { user: string; secret: string } | null) =>
  new Promise<{ ok: boolean; out: string }>((resolve) => {
    const url = `iscsi://${chap === null ? "" : `${chap.user}@`}${m.address}:${m.iscsiPort}/`
    const env = { ...process.env, ...(chap === null ? {} : { LIBISCSI_CHAP_PASSWORD: chap.secret }) }
    execFile("iscsi-ls", ["-s", url], { env, timeout: 10_000 }, (error, stdout, stderr) =>
      resolve({ ok: error === null, out: `${stdout}${stderr}` }))
  })

// ---- PXE trees -----------------------------------------------------------------------------------

const pxeLink = (mac: string) => join(tftpRoot, "pxelinux.cfg", `01-${mac.replace(/:/g, "-")}`)

/** A hand-written config for `m`, as the notes show Ironic's; only `files` are put in the tree. */
const handWrittenConfig = (m: TestMachine, config: string, files: ReadonlyArray<string> = []): string => {
  const nodeId = randomUUID()
  mkdirSync(join(tftpRoot, nodeId), { mode: 0o755 })
  for (const f of files) writeFileSync(join(tftpRoot, nodeId, f), randomBytes(4096), { mode: 0o644 })
  writeFileSync(join(tftpRoot, nodeId, "config"), config.replaceAll("<uuid>", nodeId), { mode: 0o644 })
  mkdirSync(join(tftpRoot, "pxelinux.cfg"), { recursive: true, mode: 0o755 })
  rmSync(pxeLink(m.mac), { force: true })
  writeFileSync(pxeLink(m.mac), config.replaceAll("<uuid>", nodeId), { mode: 0o644 })
  return nodeId
}

const deployConfig = (key: string, iqn: string) => `default deploy
label deploy
kernel <uuid>/deploy_kernel
append initrd=<uuid>/deploy_ramdisk deployment_id=<uuid> deployment_key=${key} iscsi_target_iqn=${iqn} ironic_api_url=${apiUrl} text
ipappend 3
label boot
kernel <uuid>/kernel
append initrd=<uuid>/ramdisk root={{ ROOT }} ro text
`

const iqnFor = (nodeId: string) => `iqn.2026-11.org.ironledger:${nodeId}` as Iqn

const ext4Image = (uuid: string, bytes = 8 * MiB): Promise<string> => {
  const path = join(images, `root-${uuid}.img`)
  writeFileSync(path, "")
  return new Promise((resolve, reject) =>
    execFile("mkfs.ext4", ["-q", "-F", "-U", uuid, path, `${bytes / 1024}k`], { timeout: 20_000 }, (error, _o, stderr) =>
      error === null ? resolve(path) : reject(new Error(`mkfs.ext4: ${stderr}`))))
}

const targetOf = (body: Record<string, unknown>): BlockTarget => ({
  portal: String(body["address"]), port: Number(body["port"]), iqn: String(body["iqn"]), lun: Number(body["lun"]),
  chap: { user: String(body["chap_user"]), secret: Redacted.make(String(body["chap_secret"])) },
})

// ---- servers -------------------------------------------------------------------------------------

before(async () => {
  mkdirSync(tftpRoot, { mode: 0o755 })
  mkdirSync(images, { mode: 0o755 })
  api = createServer((req, res) => {
    let text = ""
    req.setEncoding("utf8")
    req.on("data", (d: string) => { text += d })
    req.on("end", () => {
      let body: Record<string, unknown> = {}
      try { body = JSON.parse(text) } catch { /* recorded as empty */ }
      posts.push({ path: req.url ?? "", headers: req.headers, body })
      const inventoryOf = /^\/v1\/nodes\/([^/]+)\/vendor_passthru\/inventory$/.exec(req.url ?? "")
      res.writeHead(inventoryOf === null || inspecting.has(inventoryOf[1]!) ? 202 : 404).end()
    })
  })
  await new Promise<void>((r) => api.listen(0, "127.0.0.1", r))
  const where = api.address()
  apiUrl = `http://127.0.0.1:${typeof where === "object" && where !== null ? where.port : 0}`
  scope = await run(Scope.make())
  dnsmasq = await run(Scope.provide(scope)(startDnsmasq({
    tftpRoot, stateDir: join(work, "dnsmasq"), pidFile: DNSMASQ_PID,
    mode: { kind: "loopback", listenAddress: TFTP_ADDRESS, dhcpPort: DHCP_PORT },
  })))
})

const killGroups = () => {
  for (const pgid of groups) {
    try { process.kill(-pgid, "SIGKILL") } catch { /* group gone */ }
  }
}
// If the runner ends this process before `after` runs, no machine or tgtd may outlive it.
process.once("exit", killGroups)

const groupAlive = (pgid: number) => {
  try { process.kill(-pgid, 0); return true } catch { return false }
}

after(async () => {
  killGroups()
  for (let i = 0; i < 100 && [...groups].some(groupAlive); i++) await sleep(20)
  for (const port of controlPorts) {
    rmSync(tgtSocketPath(port), { force: true })
    rmSync(`${tgtSocketPath(port)}.lock`, { force: true })
  }
  if (scope !== null) await run(Scope.close(scope, Exit.void))
  await new Promise<void>((r) => api.close(() => r()))
  rmSync(work, { recursive: true, force: true })
})

// ---- the deploy ----------------------------------------------------------------------------------

describe("a deploy, as the conductor drives it", { timeout: 90_000 }, () => {
  let m: TestMachine
  let nodeId: string
  let rootUuid: string
  const key = randomBytes(16).toString("hex")
  let configurator: Awaited<ReturnType<typeof makePxeBootConfigurator>>

  before(async () => {
    m = await newMachine()
    nodeId = randomUUID()
    for (const f of ["deploy_kernel", "deploy_ramdisk", "kernel", "ramdisk"]) writeFileSync(join(images, f), randomBytes(64 * 1024))
    configurator = await makePxeBootConfigurator({ tftpRoot, dnsmasq })
    await run(configurator.prepareDeploy({
      nodeId, macs: [m.mac as never], deployKernel: join(images, "deploy_kernel"), deployRamdisk: join(images, "deploy_ramdisk"),
      kernel: join(images, "kernel"), ramdisk: join(images, "ramdisk"), deployId: randomUUID(), deployKey: key,
      iscsiIqn: iqnFor(nodeId), apiUrl,
    }))
  })

  test("powered on, it PXE boots the deploy ramdisk, exports its disk with CHAP and posts pass_deploy_info", async () => {
    powerOn(m)
    const status = await waitFor(m, "called-back")
    assert.equal(status.portal, `${m.address}:${m.iscsiPort}`)
    assert.equal(status.callbackStatus, 202)
    const [post, ...more] = postsFor(nodeId)
    assert.ok(post !== undefined, "no pass_deploy_info for the node")
    assert.equal(more.length, 0)
    assert.equal(post.headers[API_VERSION_HEADER], "1.78")
    const { chap_user, chap_secret, ...rest } = post.body
    assert.deepEqual(rest, { address: m.address, port: String(m.iscsiPort), iqn: iqnFor(nodeId), lun: "1", key, error: null })
    assert.match(String(chap_user), /^\S+$/)
    assert.match(String(chap_secret), /^[0-9a-f]{24}$/)
    assert.deepEqual(status.history.map((h) => h.state), ["pxe", "deploy-ramdisk", "exported", "called-back"])
  })

  test("its target admits the posted CHAP credentials and refuses others", async () => {
    const body = postsFor(nodeId)[0]!.body
    const good = await iscsiLs(m, { user: String(body["chap_user"]), secret: String(body["chap_secret"]) })
    assert.ok(good.ok, good.out)
    assert.match(good.out, new RegExp(`Target:${iqnFor(nodeId)} Portal:${m.address}:${m.iscsiPort}`))
    assert.match(good.out, /Lun:1\s+Type:DIRECT_ACCESS/)
    const wrong = await iscsiLs(m, { user: String(body["chap_user"]), secret: randomBytes(12).toString("hex") })
    assert.ok(!wrong.ok)
    assert.match(wrong.out, /Authentication failure/)
    const none = await iscsiLs(m, null)
    assert.ok(!none.ok, "a login without CHAP was admitted")
  })

  test("no secret leaves the machine but in the POST: not in argv, status or log", () => {
    const body = postsFor(nodeId)[0]!.body
    const secret = String(body["chap_secret"])
    const cmdline = readFileSync(`/proc/${tgtdPid(m)}/cmdline`, "utf8")
    const said = readFileSync(join(m.stateDir, "status.json"), "utf8") + readFileSync(join(m.stateDir, "machine.log"), "utf8")
    for (const text of [cmdline, said]) {
      assert.ok(!text.includes(secret), "CHAP secret leaked")
      assert.ok(!text.includes(key), "deploy key leaked")
    }
  })

  test("the conductor writes the image over iSCSI, releases the ramdisk, switches PXE: the machine boots the root", async () => {
    rootUuid = randomUUID()
    const layout = computeLayout({ rootGb: 1, swapMb: 8, ephemeralGb: 0, diskBytes: GiB + 16 * MiB })
    assert.ok(E.isRight(layout))
    const written = await run(iscsiBlockWriter().writeImage({
      target: targetOf(postsFor(nodeId)[0]!.body), layout: layout.right, imagePath: await ext4Image(rootUuid), preserveEphemeral: false,
    }))
    assert.equal(written.rootUuid, rootUuid)
    const pid = tgtdPid(m)
    // The conductor's order (plan.ts): release first, then the boot label; the machine's own reboot
    // waits for the switch instead of running the finished deploy again.
    await run(releaseOverTcp(m.address, RELEASE_PORT, 5000))
    await waitFor(m, "released")
    await sleep(600)
    assert.equal(readStatus(m.stateDir)?.state, "pxe", "the machine did not hold back on the finished deploy")
    await run(configurator.switchToBoot(nodeId, rootUuid))
    const booted = await waitFor(m, "booted")
    assert.equal(booted.rootUuid, rootUuid)
    assert.equal(booted.label, "boot")
    assert.deepEqual(booted.history.map((h) => h.state),
      ["pxe", "deploy-ramdisk", "exported", "called-back", "released", "pxe", "booted"])
    assert.ok(!isAlive(pid), "tgtd outlived the ramdisk")
    assert.ok(!existsSync(join(m.stateDir, "tgtd.pid")))
    assert.equal(await portalAccepts(m.address, m.iscsiPort), false)
    assert.equal(await portalAccepts(m.address, RELEASE_PORT), false)
    assert.equal(postsFor(nodeId).length, 1, "the finished deploy called back twice")
  })

  test("powered off and on again (as a BMC reboot does), it boots the disk straight from the boot label", async () => {
    const first = readStatus(m.stateDir)!
    process.kill(first.pid, "SIGTERM")
    await within(2000, "exit after SIGTERM", new Promise<void>((r) => { const t = setInterval(() => { if (!isAlive(first.pid)) { clearInterval(t); r() } }, 20) }))
    assert.equal(readStatus(m.stateDir)?.state, "off")
    powerOn(m)
    const booted = await waitFor(m, "booted")
    assert.notEqual(booted.pid, first.pid)
    assert.equal(booted.rootUuid, rootUuid)
    assert.deepEqual(booted.history.map((h) => h.state), ["pxe", "booted"])
  })

  test("a boot label naming another root UUID fails the boot with both UUIDs", async () => {
    const running = readStatus(m.stateDir)!
    process.kill(running.pid, "SIGKILL")
    const other = randomUUID()
    await run(configurator.switchToBoot(nodeId, other as never))
    powerOn(m)
    const failed = await waitFor(m, "failed")
    assert.match(failed.reason ?? "", new RegExp(`root=UUID=${other}.*${rootUuid}`))
  })
})

// ---- boots that go wrong -------------------------------------------------------------------------

describe("an inspection", { timeout: 60_000 }, () => {
  test("the ramdisk posts the machine's inventory with its key and, taken, exports nothing and waits", async () => {
    const m = await newMachine()
    const nodeId = randomUUID()
    const key = randomBytes(16).toString("hex")
    inspecting.add(nodeId)
    for (const f of ["deploy_kernel", "deploy_ramdisk"]) writeFileSync(join(images, f), randomBytes(64 * 1024))
    const configurator = await makePxeBootConfigurator({ tftpRoot, dnsmasq })
    await run(configurator.prepareDeploy({
      nodeId, macs: [m.mac as never], deployKernel: join(images, "deploy_kernel"), deployRamdisk: join(images, "deploy_ramdisk"),
      kernel: null, ramdisk: null, deployId: randomUUID(), deployKey: key, iscsiIqn: iqnFor(nodeId), apiUrl,
    }))
    powerOn(m)
    const status = await waitFor(m, "inspected")
    assert.deepEqual(status.history.map((h) => h.state), ["pxe", "deploy-ramdisk", "inspected"])
    const [post, ...more] = posts.filter((p) => p.path === `/v1/nodes/${nodeId}/vendor_passthru/inventory`)
    assert.ok(post !== undefined && more.length === 0)
    assert.equal(post.body["key"], key)
    const inventory = post.body["inventory"] as Record<string, any>
    assert.deepEqual(inventory["interfaces"].map((n: Record<string, unknown>) => n["mac_address"]), [m.mac])
    assert.equal(inventory["disks"][0].size, GiB + 16 * MiB)
    assert.deepEqual(postsFor(nodeId), [], "no pass_deploy_info")
  })
})

describe("boot failures", { timeout: 60_000 }, () => {
  test("a deploy label whose kernel is not on the TFTP server fails loudly and starts no target", async () => {
    const m = await newMachine()
    handWrittenConfig(m, deployConfig("k", "iqn.2026-11.test:x"), ["deploy_ramdisk"])
    powerOn(m)
    const failed = await waitFor(m, "failed")
    assert.match(failed.reason ?? "", /kernel [0-9a-f-]+\/deploy_kernel of label "deploy" is not on the TFTP server/)
    assert.ok(!existsSync(join(m.stateDir, "tgtd.pid")))
    assert.equal(await portalAccepts(m.address, m.iscsiPort), false)
  })

  test("without a PXE config it boots the local disk, and fails on a disk without an MBR", async () => {
    const m = await newMachine()
    powerOn(m)
    const failed = await waitFor(m, "failed")
    assert.match(failed.reason ?? "", /no PXE config .* no bootable disk: the disk has no MBR/)
  })

  test("a kernel label without root= (rescue) boots without the disk; a {{ ROOT }} placeholder does not", async () => {
    const m = await newMachine()
    handWrittenConfig(m, "default rescue\nlabel rescue\nkernel <uuid>/deploy_kernel\nappend initrd=<uuid>/deploy_ramdisk rescue_mode=1\n",
      ["deploy_kernel", "deploy_ramdisk"])
    const first = powerOn(m)
    const booted = await waitFor(m, "booted")
    assert.equal(booted.label, "rescue")
    first.child.kill("SIGKILL")
    await first.exited
    handWrittenConfig(m, "default boot\nlabel boot\nkernel <uuid>/kernel\nappend initrd=<uuid>/ramdisk root={{ ROOT }} ro\n", ["kernel", "ramdisk"])
    powerOn(m)
    const failed = await waitFor(m, "failed")
    assert.match(failed.reason ?? "", /only root=UUID=<uuid> can be checked/)
  })

  test("localboot: an MBR on the disk is enough (whole-disk image)", async () => {
    const m = await newMachine()
    handWrittenConfig(m, "default boot\nlabel boot\nlocalboot 0\n")
    const first = powerOn(m)
    await waitFor(m, "failed")
    process.kill(first.child.pid!, "SIGTERM")
    await within(2000, "exit", first.exited)
    const layout = computeLayout({ rootGb: 1, swapMb: 0, ephemeralGb: 0, diskBytes: GiB + 16 * MiB })
    assert.ok(E.isRight(layout))
    const fd = openSync(m.diskPath, "r+")
    writeSync(fd, encodeMbr(layout.right, 0x1234abcd), 0, 512, 0)
    closeSync(fd)
    powerOn(m)
    const booted = await waitFor(m, "booted")
    assert.equal(booted.rootUuid, null)
  })
})

// ---- fault knobs ---------------------------------------------------------------------------------

describe("fault knobs", { timeout: 120_000 }, () => {
  const deployed = async (overrides: Partial<MachineSpec>) => {
    const m = await newMachine(overrides)
    const key = randomBytes(16).toString("hex")
    const nodeId = handWrittenConfig(m, deployConfig(key, "iqn.2026-11.test:faults"), ["deploy_kernel", "deploy_ramdisk"])
    return { m, key, nodeId, running: powerOn(m) }
  }

  test("neverCallBack: exports its disk, never posts, and ignores anything but \"done\"", async () => {
    const { m, nodeId } = await deployed({ faults: { neverCallBack: true } })
    await waitFor(m, "exported")
    const listed = await iscsiLs(m, null) // discovery needs no CHAP
    assert.match(listed.out, /Target:iqn\.2026-11\.test:faults/)
    await sleep(1500)
    assert.equal(postsFor(nodeId).length, 0)
    assert.equal(readStatus(m.stateDir)?.state, "exported")
    const garbage = await new Promise<boolean>((resolve) => {
      const s = connect({ host: m.address, port: RELEASE_PORT }, () => s.end("hello\n"))
      s.once("close", () => resolve(true))
      s.once("error", () => resolve(false))
    })
    assert.ok(garbage)
    await sleep(200)
    assert.equal(readStatus(m.stateDir)?.state, "exported")
    await run(releaseOverTcp(m.address, RELEASE_PORT, 5000))
    await waitFor(m, "released")
  })

  test("postError: posts error \"simulated disk failure\" with the right key", async () => {
    const { m, key, nodeId } = await deployed({ faults: { postError: true } })
    await waitFor(m, "called-back")
    const body = postsFor(nodeId)[0]!.body
    assert.equal(body["error"], "simulated disk failure")
    assert.equal(body["key"], key)
  })

  test("wrongKey: posts a key that is not the deployment_key", async () => {
    const { m, key, nodeId } = await deployed({ faults: { wrongKey: true } })
    await waitFor(m, "called-back")
    const body = postsFor(nodeId)[0]!.body
    assert.equal(typeof body["key"], "string")
    assert.notEqual(body["key"], "")
    assert.notEqual(body["key"], key)
    assert.equal(body["error"], null)
  })

  test("diskTooSmall: a 64 MiB disk, which the BlockWriter refuses for a 1 GiB root", async () => {
    const { m, nodeId } = await deployed({ faults: { diskTooSmall: true } })
    await waitFor(m, "called-back")
    const layout = computeLayout({ rootGb: 1, swapMb: 0, ephemeralGb: 0, diskBytes: GiB + 16 * MiB })
    assert.ok(E.isRight(layout))
    const outcome = await run(Effect.result(iscsiBlockWriter().writeImage({
      target: targetOf(postsFor(nodeId)[0]!.body), layout: layout.right, imagePath: await ext4Image(randomUUID()), preserveEphemeral: false,
    })))
    assert.equal(outcome._tag, "Failure")
    assert.match(String(outcome._tag === "Failure" ? outcome.failure.reason : ""), new RegExp(`disk has ${TOO_SMALL_DISK_BYTES}\\b`))
  })

  test("dieMidWrite: once the write is under way, tgtd and the machine die and the write never completes", async () => {
    const { m, nodeId, running } = await deployed({ faults: { dieMidWrite: { afterBytes: 2 * MiB } } })
    await waitFor(m, "called-back")
    const pid = tgtdPid(m)
    const body = postsFor(nodeId)[0]!.body
    const image = join(images, `random-${m.name}.raw`)
    writeFileSync(image, randomBytes(64 * MiB)) // incompressible: the write allocates the disk file as it goes
    const secretFile = join(images, `chap-${m.name}`)
    writeFileSync(secretFile, String(body["chap_secret"]), { mode: 0o600 })
    // qemu-img itself, not the BlockWriter: against a vanished target libiscsi keeps reconnecting,
    // and this test has to end the write itself.
    const writer = spawn("qemu-img", ["convert", "-n", "-f", "raw", "--object", `secret,id=chap0,file=${secretFile}`, image,
      "--target-image-opts", `driver=raw,offset=${MiB},size=${64 * MiB},file.driver=iscsi,file.transport=tcp,` +
      `file.portal=${m.address}:${m.iscsiPort},file.target=${String(body["iqn"])},file.lun=1,` +
      `file.user=${String(body["chap_user"])},file.password-secret=chap0`], { stdio: "ignore" })
    const writerExit = new Promise<number | null>((r) => writer.once("exit", (code) => r(code)))
    try {
      const exit = await within(10_000, "machine exit", running.exited)
      assert.equal(exit.signal, "SIGKILL")
      assert.ok(!isAlive(pid), "tgtd survived the crash")
      assert.equal(await portalAccepts(m.address, m.iscsiPort), false)
      const status = readStatus(m.stateDir)!
      assert.equal(status.state, "failed")
      assert.match(status.reason ?? "", /simulated crash mid-write \(\d+ bytes written\)/)
      const outcome = await Promise.race([writerExit, sleep(1000).then(() => "still trying" as const)])
      assert.notEqual(outcome, 0, "the write completed on a crashed machine")
    } finally {
      writer.kill("SIGKILL")
      await writerExit
    }
  })

  test("a ramdisk never told \"done\" gives up after releaseTimeoutMs and removes its target", async () => {
    const { m } = await deployed({ releaseTimeoutMs: 800 })
    await waitFor(m, "called-back")
    const pid = tgtdPid(m)
    const failed = await waitFor(m, "failed", 5000)
    assert.match(failed.reason ?? "", /no "done" within 800 ms/)
    assert.ok(!isAlive(pid))
    assert.equal(await portalAccepts(m.address, m.iscsiPort), false)
  })
})

// ---- power ---------------------------------------------------------------------------------------

describe("power", { timeout: 180_000 }, () => {
  test("SIGTERM while exported: tgtd and the listener are gone well within ipmi_sim's kill_wait", async () => {
    const m = await newMachine({ faults: { neverCallBack: true } })
    handWrittenConfig(m, deployConfig("k", "iqn.2026-11.test:term"), ["deploy_kernel", "deploy_ramdisk"])
    const running = powerOn(m)
    await waitFor(m, "exported")
    const pid = tgtdPid(m)
    const started = performance.now()
    running.child.kill("SIGTERM")
    const exit = await within(2000, "exit after SIGTERM", running.exited)
    assert.equal(exit.code, 0)
    assert.ok(performance.now() - started < 2000)
    assert.ok(!isAlive(pid))
    assert.equal(readStatus(m.stateDir)?.state, "off")
    assert.equal(await portalAccepts(m.address, RELEASE_PORT), false)
  })

  test("a machine SIGKILLed mid-deploy leaves its tgtd; the next power on reaps it and exports again", async () => {
    const m = await newMachine({ faults: { neverCallBack: true } })
    handWrittenConfig(m, deployConfig("k", "iqn.2026-11.test:reap"), ["deploy_kernel", "deploy_ramdisk"])
    const first = powerOn(m)
    await waitFor(m, "exported")
    const orphan = tgtdPid(m)
    first.child.kill("SIGKILL")
    await first.exited
    assert.ok(isAlive(orphan), "expected the orphaned tgtd to be alive")
    powerOn(m)
    await waitFor(m, "exported")
    assert.ok(!isAlive(orphan), "the orphaned tgtd was not reaped")
    assert.notEqual(tgtdPid(m), orphan)
    assert.match(readFileSync(join(m.stateDir, "machine.log"), "utf8"), new RegExp(`reaped tgtd ${orphan}`))
  })

  test("ipmi_sim runs the machine on power on and stops it, with its tgtd, on power off", async () => {
    const m = await newMachine({ faults: { neverCallBack: true } })
    handWrittenConfig(m, deployConfig("k", "iqn.2026-11.test:bmc"), ["deploy_kernel", "deploy_ramdisk"])
    const startCmd = machineStartCmd(m.configPath)
    const password = randomBytes(6).toString("hex")
    const bmc = await startBmc({
      name: `bmc-${m.name}`, port: await freeUdpPort(), username: "admin", password, stateDir: join(work, "bmcs", m.name), startCmd,
    })
    groups.add(bmc.pid)
    try {
      const ipmi = (action: string) => new Promise<string>((resolve, reject) =>
        execFile("ipmitool", ["-I", "lanplus", "-C", "3", "-H", bmc.access.address, "-p", String(bmc.access.port), "-U", "admin", "-E",
          "chassis", "power", action], { env: { ...process.env, IPMI_PASSWORD: password }, timeout: 10_000 },
        (error, stdout, stderr) => error === null ? resolve(stdout) : reject(new Error(`ipmitool ${action}: ${stderr}`))))
      await ipmi("on")
      const deadline0 = performance.now() + 5000
      while (!bmc.machine().running && performance.now() < deadline0) await sleep(20)
      const exported = await waitFor(m, "exported", 15_000, bmc.machine().pid ?? -1)
      const pid = tgtdPid(m)
      await ipmi("off")
      // SIGTERM at once; kill_wait (2 s) would follow with SIGKILL.
      const deadline = performance.now() + 8000
      while (readStatus(m.stateDir)?.state !== "off" && performance.now() < deadline) await sleep(50)
      assert.equal(readStatus(m.stateDir)?.state, "off")
      await sleep(100)
      assert.ok(!isAlive(exported.pid))
      assert.ok(!isAlive(pid), "tgtd outlived the machine's power off")

      // The boot device its BMC keeps decides each boot: the disk (not bootable: nothing deployed),
      // then, across a power reset, still the disk; PXE again once asked for, across a reset too.
      const bootdev = (device: string) => new Promise<string>((resolve, reject) =>
        execFile("ipmitool", ["-I", "lanplus", "-C", "3", "-H", bmc.access.address, "-p", String(bmc.access.port), "-U", "admin", "-E",
          "chassis", "bootdev", device], { env: { ...process.env, IPMI_PASSWORD: password }, timeout: 10_000 },
        (error, stdout, stderr) => error === null && /Set Boot Device to/.test(stdout) ? resolve(stdout) : reject(new Error(`bootdev ${device}: ${stderr}`))))
      // One reading per look: the pid and whether it runs must come from the same read.
      const bootOf = async (previous: number | null) => {
        const until = performance.now() + 8000
        let seen = bmc.machine()
        while ((seen.pid === previous || !seen.running) && performance.now() < until) {
          await sleep(20)
          seen = bmc.machine()
        }
        assert.ok(seen.running && seen.pid !== null && seen.pid !== previous, "the machine did not boot again")
        return seen.pid
      }
      // A machine is a Node.js process: under a loaded CI host its start alone can take seconds, so
      // these waits are generous; a failure shows what the BMC did and what the machine printed.
      const bootWait = async (state: "failed" | "exported", pid: number) => {
        try {
          return await waitFor(m, state, 45_000, pid)
        } catch (e) {
          const tail = (file: string) => { try { return readFileSync(join(bmc.stateDir, file), "utf8").split("\n").slice(-15).join("\n") } catch { return "(none)" } }
          throw new Error(`${(e as Error).message}\nchassis.log:\n${tail("chassis.log")}\nipmi_sim.log:\n${tail("ipmi_sim.log")}`)
        }
      }
      await bootdev("disk")
      await ipmi("on")
      const fromDisk = await bootOf(exported.pid)
      const failed = await bootWait("failed", fromDisk)
      assert.match(failed.reason ?? "", /the boot device is the disk and no bootable disk/)
      assert.ok(!failed.history.some((h) => h.state === "pxe"), "a machine told to boot its disk went to PXE")
      await ipmi("reset")
      const reset = await bootOf(fromDisk)
      assert.match((await bootWait("failed", reset)).reason ?? "", /the boot device is the disk/, "the disk did not hold across a reset")
      await bootdev("pxe")
      await ipmi("reset")
      await bootWait("exported", await bootOf(reset))
      await ipmi("off")
    } finally {
      await bmc.stop()
    }
  })
})

// ---- configuration -------------------------------------------------------------------------------

describe("machine config", { timeout: 30_000 }, () => {
  const minimal = {
    name: "n1", mac: "52:54:00:AA:BB:CC", address: "127.77.0.1", diskPath: "/tmp/x/disk.img", diskBytes: 4 * MiB,
    stateDir: "/tmp/x/state", tgtdControlPort: 20001,
  }

  test("defaults: portal on port 3260, \"done\" on 10000, TFTP from 127.0.0.1, no faults", () => {
    const config = parseMachineConfig(minimal)
    assert.ok(E.isRight(config), E.isLeft(config) ? config.left : "")
    assert.equal(config.right.mac, "52:54:00:aa:bb:cc")
    assert.equal(config.right.iscsiPort, 3260)
    assert.equal(config.right.releasePort, 10000)
    assert.equal(config.right.tftpServer, "127.0.0.1")
    assert.deepEqual(config.right.faults, { neverCallBack: false, postError: false, wrongKey: false, dieMidWrite: null })
  })

  test("refuses what it cannot simulate, saying why", () => {
    const cases: ReadonlyArray<[Record<string, unknown>, RegExp]> = [
      [{ address: "10.0.0.5" }, /127\.x\.y\.z/],
      [{ tftpServer: "192.168.1.1" }, /loopback TFTP/],
      [{ mac: "nope" }, /not a valid MAC/],
      [{ tgtdControlPort: 40000 }, /0-32767/],
      [{ iscsiPort: 10000 }, /must differ/],
      [{ diskBytes: 1000 }, /512-byte sectors/],
      [{ diskPath: "relative.img" }, /absolute path/],
      [{ faults: { slowDisk: true } }, /unknown fault knob\(s\): slowDisk/],
      [{ faults: { dieMidWrite: {} } }, /afterBytes or afterMs/],
      [{ extra: 1 }, /unknown field\(s\): extra/],
    ]
    for (const [change, reason] of cases) {
      const config = parseMachineConfig({ ...minimal, ...change })
      assert.ok(E.isLeft(config), `accepted ${JSON.stringify(change)}`)
      assert.match(config.left, reason)
    }
  })

  test("a machine started with a bad config exits 2 and says why", async () => {
    const path = join(work, "bad-machine.json")
    writeFileSync(path, JSON.stringify({ ...minimal, address: "10.0.0.5" }))
    const said = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(NODE_BIN, ["--disable-warning=ExperimentalWarning", MACHINE_PROGRAM, "--config", path], { timeout: 10_000 },
        (error, _stdout, stderr) => resolve({ code: error === null ? 0 : (error as { code?: number }).code ?? null, stderr })))
    assert.equal(said.code, 2)
    assert.match(said.stderr, /address 10\.0\.0\.5: a simulated machine lives on a 127\.x\.y\.z address/)
  })

  test("the i-th machine's address, MAC and tgtd control port are distinct and valid", () => {
    const n = 600
    const addresses = new Set(Array.from({ length: n }, (_, i) => machineAddress(i)))
    const macs = new Set(Array.from({ length: n }, (_, i) => machineMac(i)))
    const ports = new Set(Array.from({ length: n }, (_, i) => machineTgtdControlPort(i)))
    assert.equal(addresses.size, n)
    assert.equal(macs.size, n)
    assert.equal(ports.size, n)
    for (let i = 0; i < n; i++) {
      const config = parseMachineConfig({ ...minimal, address: machineAddress(i), mac: machineMac(i), tgtdControlPort: machineTgtdControlPort(i) })
      assert.ok(E.isRight(config), E.isLeft(config) ? config.left : "")
    }
  })
})
