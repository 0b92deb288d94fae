// End to end on real servers: `ironledger serve --sim 5` as its own process (SQLite log) runs 5
// simulated machines on real ipmi_sim BMCs (driven by ipmitool), a dnsmasq TFTP server and one tgtd
// per machine (written by qemu-img over libiscsi). Everything goes through the HTTP API with fetch:
// 5 concurrent deploys, undeploy, rebuild keeping the ephemeral partition, a wrong key; then the
// service restarts (same log, short deploy_callback_timeout) for a ramdisk that never calls back and
// one that reports an error, and a BMC that refuses the boot device. Needs root (TFTP port 69, tgtd).
import { spawn, type ChildProcess } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join, resolve } from "node:path"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { okClient, untilSettled } from "../adapters/http-harness.ts"
import { readExtUuid, readMbr } from "../../src/adapters/sim/machine/disk.ts"
import { readStatus, type MachineStatus } from "../../src/adapters/sim/machine/status.ts"
import { controlSocketPath } from "../../src/adapters/sim/tgt/account.ts"
import { machineTgtdControlPort } from "../../src/adapters/sim/machine/spawn.ts"
import { realRackUnavailable } from "../../src/cli/sim-rack/preflight.ts"

const ironledger = resolve(import.meta.dirname, "../../bin/ironledger")
const MACHINES = 5
const names = Array.from({ length: MACHINES }, (_, i) => `sim-${String(i + 1).padStart(5, "0")}`)
const MiB = 1024 * 1024

const work = mkdtempSync(join(tmpdir(), "ironledger-real-deploy-"))
chmodSync(work, 0o755) // dnsmasq serves the TFTP tree as nobody
const db = join(work, "ironledger.sqlite")
const state = `${db}.state`
const machineDir = (name: string) => join(state, "rack", "machines", name)
const pxeLink = (mac: string) => join(state, "tftpboot", "pxelinux.cfg", `01-${mac.replace(/:/g, "-")}`)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// ---- the service process -------------------------------------------------------------------------

interface Service { readonly child: ChildProcess; readonly url: string; readonly exited: Promise<number | null> }
let service: Service | null = null
let said = ""
const tail = () => said.slice(-3000)

const startServe = async (extra: ReadonlyArray<string> = []): Promise<Service> => {
  // A relative --db, as the README's `npm start` gives it: the service must hand dnsmasq and the
  // machines absolute paths all the same.
  const child = spawn(ironledger, ["serve", "--db", basename(db), "--port", "0", "--sim", String(MACHINES), ...extra], {
    cwd: work, stdio: ["ignore", "pipe", "pipe"],
  })
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
  const from = said.length
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start within 60 s: ${tail()}`)), 60_000)
    const hear = (d: Buffer) => {
      said += d.toString()
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(said.slice(from))
      if (m) { clearTimeout(timer); resolveUrl(m[1]!) }
    }
    child.stdout!.on("data", hear)
    child.stderr!.on("data", hear)
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`serve exited with ${code}: ${tail()}`)) })
  })
  service = { child, url, exited }
  return service
}

/** SIGTERM, bounded; SIGKILL if it does not stop. Returns the exit code (null: killed). */
const stopServe = async (): Promise<number | null> => {
  const s = service
  service = null
  if (s === null || s.child.exitCode !== null || s.child.signalCode !== null) return s?.child.exitCode ?? null
  s.child.kill("SIGTERM")
  let timer: NodeJS.Timeout | undefined
  const code = await Promise.race([s.exited, new Promise<"timeout">((r) => { timer = setTimeout(() => r("timeout"), 20_000) })])
  clearTimeout(timer)
  if (code !== "timeout") return code
  s.child.kill("SIGKILL")
  await s.exited
  return null
}

// ---- processes the rack starts: none may outlive the service ----------------------------------------

const controlPorts = names.map((_, i) => machineTgtdControlPort(i + 1))
const strayProcesses = (): ReadonlyArray<{ pid: number; cmd: string }> => {
  const found: Array<{ pid: number; cmd: string }> = []
  for (const d of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    let cmd: string
    try { cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").replace(/\0/g, " ").trim() } catch { continue }
    const ours = cmd.includes(work) || controlPorts.some((p) => new RegExp(`^tgtd .*-C ${p}\\b`).test(cmd))
    if (ours && Number(d) !== process.pid) found.push({ pid: Number(d), cmd })
  }
  return found
}
const killStrays = () => { for (const p of strayProcesses()) try { process.kill(p.pid, "SIGKILL") } catch { /* gone */ } }
process.once("exit", () => { service?.child.kill("SIGKILL"); killStrays() })

const assertNoStrays = async () => {
  for (let i = 0; i < 40 && strayProcesses().length > 0; i++) await sleep(100)
  assert.deepEqual(strayProcesses().map((p) => p.cmd), [], "processes outlived the service")
}

// ---- the API -------------------------------------------------------------------------------------

type Doc = Record<string, any>
const ok = okClient(() => service!.url)
const node = (name: string) => ok("GET", `/v1/nodes/${name}`)
const provision = (name: string, target: string) => ok("PUT", `/v1/nodes/${name}/states/provision`, { target })
const setInstanceInfo = (name: string, values: Record<string, unknown>) =>
  ok("PATCH", `/v1/nodes/${name}`, Object.entries(values).map(([k, value]) => ({ op: "add", path: `/instance_info/${k}`, value })))
const history = async (name: string, detail = false): Promise<ReadonlyArray<Doc>> =>
  (await ok("GET", `/v1/nodes/${name}/history${detail ? "/detail" : ""}`))["history"]

/** Waits for the node's provision state (untilSettled); a failure shows the service's last lines. */
const reach = (name: string, wanted: string, ms: number, since?: string): Promise<Doc> =>
  untilSettled(node, name, wanted, { ms, since, pollMs: 150, context: tail })

// ---- machines ------------------------------------------------------------------------------------

const statusOf = (name: string) => readStatus(join(machineDir(name), "state"))

/** Waits for a machine state in a boot other than `notPid` (an earlier boot's file stays until then). */
const machineReaches = async (name: string, wanted: MachineStatus["state"], ms: number, notPid?: number): Promise<MachineStatus> => {
  const deadline = Date.now() + ms
  for (;;) {
    const s = statusOf(name)
    if (s !== null && s.pid !== notPid && s.state === wanted) return s
    if (Date.now() > deadline) assert.fail(`machine ${name} not ${wanted} within ${ms} ms (now ${s?.state}: ${s?.reason ?? ""})`)
    await sleep(100)
  }
}

const setFaults = (name: string, faults: Record<string, unknown>) => {
  const path = join(machineDir(name), "machine.json")
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, "utf8")), faults }, null, 2))
}

const readAt = (path: string, offset: number, length: number) => {
  const fd = openSync(path, "r")
  try {
    const buf = Buffer.alloc(length)
    assert.equal(readSync(fd, buf, 0, length, offset), length)
    return buf
  } finally { closeSync(fd) }
}
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex")

/** The image in the ipmi driver's store, by the id in instance_info.image_source. */
const imageBytes = (id: string) => readFileSync(join(state, "images", "images", id))

/** The root partition (the MBR's last) holds exactly the image's bytes; returns the partitions. */
const assertRootHoldsImage = (name: string, imageId: string) => {
  const disk = join(machineDir(name), "disk.img")
  const parts = readMbr(disk)
  assert.ok(typeof parts !== "string", `${name}: ${parts}`)
  const root = parts.at(-1)!
  const image = imageBytes(imageId)
  assert.ok(image.length <= root.sizeBytes)
  assert.equal(sha(readAt(disk, root.startBytes, image.length)), sha(image), `${name}: the root partition does not hold the image`)
  return parts
}

// The saga as the history shows it (leases left out): request/result pairs, in this order.
const DEPLOY_SAGA = [
  "DeployRequested",
  "BootConfigRequested", "BootConfigWritten", "BootDeviceRequested", "BootDeviceSet",
  // The wait begins before the power on, so a fast ramdisk finds the node waiting.
  "CallbackAwaited", "PowerOnRequested", "PowerStateChanged", "IscsiReady",
  "ImageWriteRequested", "ImageWritten", "RamdiskReleaseRequested", "RamdiskReleased",
  "BootConfigRequested", "BootConfigWritten", "RebootRequested", "PowerStateChanged", "DeployDone",
]
/**
 * The saga as recorded, with a fast ramdisk's call-back put back after the power-on's result: the
 * machine may boot and call back before ipmitool's answer to the power-on is recorded (the node
 * already waits, above), and both orders are the same deploy.
 */
const sagaOrder = (types: ReadonlyArray<unknown>): Array<unknown> => {
  const at = types.indexOf("IscsiReady")
  return at > 0 && types[at - 1] === "PowerOnRequested" && types[at + 1] === "PowerStateChanged"
    ? [...types.slice(0, at), "PowerStateChanged", "IscsiReady", ...types.slice(at + 2)]
    : [...types]
}
const DEPLOY_STEPS = ["deploy:pxe", "deploy:boot-device", "deploy:power", "deploy:write-image", "deploy:release-ramdisk", "deploy:pxe-boot", "deploy:reboot"]

/** The events of the node's latest operation that began with `first`, leases left out. */
const lastOperation = (entries: ReadonlyArray<Doc>, first: string) => {
  const from = entries.map((e) => e["type"]).lastIndexOf(first)
  assert.ok(from >= 0, `no ${first} in the history`)
  return entries.slice(from).filter((e) => !String(e["type"]).startsWith("Lease"))
}

/**
 * After a failed or undone deploy: powered off, machine off, no PXE config, no boot files. A failed
 * deploy is cleaned up after it is recorded as failed: give that clean-up a bounded while.
 */
const assertCleanedUp = async (name: string, mac: string) => {
  const deadline = Date.now() + 20_000
  const pxeGone = (uuid: string) => !existsSync(pxeLink(mac)) && !existsSync(join(state, "tftpboot", uuid))
  let n = await node(name)
  while ((n["power_state"] !== "power off" || !pxeGone(n["uuid"])) && Date.now() < deadline) { await sleep(150); n = await node(name) }
  assert.equal(n["power_state"], "power off")
  assert.equal(existsSync(pxeLink(mac)), false, "the PXE config link is still there")
  assert.equal(existsSync(join(state, "tftpboot", n["uuid"])), false, "the node's TFTP directory is still there")
  await machineReaches(name, "off", 10_000)
}

// ---- the tests -----------------------------------------------------------------------------------

before(async () => {
  const why = realRackUnavailable()
  assert.equal(why, null, `this test runs the rack on real servers: ${why}`)
  await startServe()
})

after(async () => {
  await stopServe()
  killStrays()
  for (const port of controlPorts) {
    rmSync(controlSocketPath(port), { force: true })
    rmSync(`${controlSocketPath(port)}.lock`, { force: true })
  }
  rmSync(work, { recursive: true, force: true })
})

describe("serve --sim 5 on real ipmi_sim, dnsmasq, tgtd and qemu-img", { timeout: 240_000 }, () => {
  const macs = new Map<string, string>()
  let sampleImage = ""

  test("enrolls 5 ipmi nodes, each with its BMC, deploy images, properties, one port and a default instance_info", async () => {
    const list = (await ok("GET", "/v1/nodes/detail"))["nodes"] as Doc[]
    assert.deepEqual(list.map((n) => n["name"]).sort(), names)
    for (const n of list) {
      assert.equal(n["driver"], "ipmi")
      assert.equal(n["driver_info"]["ipmi_address"], "127.0.0.1")
      assert.ok(Number.isInteger(n["driver_info"]["ipmi_port"]))
      assert.equal(n["driver_info"]["ipmi_password"], "******")
      assert.match(n["driver_info"]["deploy_kernel"], /^[0-9a-f]{64}$/)
      assert.match(n["driver_info"]["deploy_ramdisk"], /^[0-9a-f]{64}$/)
      assert.deepEqual(n["properties"], { cpus: 2, memory_mb: 2048, local_gb: 3, cpu_arch: "x86_64" })
      assert.equal(n["instance_info"]["root_gb"], 1)
      sampleImage = n["instance_info"]["image_source"]
      const ports = (await ok("GET", `/v1/nodes/${n["uuid"]}/ports`))["ports"] as Doc[]
      assert.equal(ports.length, 1)
      macs.set(n["name"], ports[0]!["address"])
    }
    assert.match(said, new RegExp(`sample partition image: ${sampleImage}`))
    assert.equal(imageBytes(sampleImage).length, 64 * MiB)
    assert.ok(!said.includes("fake-hardware"), "serve fell back to fake-hardware")
  })

  test("deploys all 5 concurrently: each machine boots its image, each node is active with the whole saga in its history", async () => {
    await Promise.all(names.map((n) => provision(n, "manage")))
    await Promise.all(names.map((n) => reach(n, "manageable", 30_000)))
    await Promise.all(names.map((n) => provision(n, "provide")))
    await Promise.all(names.map((n) => reach(n, "available", 30_000)))
    // sim-00002 also gets an ephemeral partition, kept by the rebuild below.
    await setInstanceInfo(names[1]!, { ephemeral_gb: 1 })

    const started = performance.now()
    await Promise.all(names.map((n) => provision(n, "active")))
    const nodes = await Promise.all(names.map((n) => reach(n, "active", 120_000)))
    const seconds = (performance.now() - started) / 1000

    const rootUuid = readExtUuid(join(state, "images", "images", sampleImage), 0)
    assert.equal(typeof rootUuid, "string")
    let written = 0
    let writeMs = 0
    for (const [i, n] of nodes.entries()) {
      const name = names[i]!
      assert.equal(n["power_state"], "power on")
      const booted = await machineReaches(name, "booted", 15_000)
      assert.equal(booted.label, "boot")
      assert.equal(booted.rootUuid, rootUuid)
      const parts = assertRootHoldsImage(name, sampleImage)
      assert.deepEqual(parts.map((p) => p.number), i === 1 ? [1, 2] : [1])

      const detail = lastOperation(await history(name, true), "DeployRequested")
      const types = lastOperation(await history(name), "DeployRequested").map((e) => e["type"])
      assert.deepEqual(sagaOrder(types), DEPLOY_SAGA, `${name}: ${JSON.stringify(detail.map((e) => [e["revision"], e["type"], e["actor"], e["data"]["step"] ?? ""]))}`)
      const steps = detail.filter((e) => String(e["type"]).endsWith("Requested") && e["type"] !== "DeployRequested")
        .map((e) => String(e["data"]["step"]).split(":").slice(1).join(":"))
      assert.deepEqual(steps, DEPLOY_STEPS)
      for (const e of detail.filter((e) => ["BootConfigWritten", "BootDeviceSet", "PowerStateChanged", "ImageWritten", "RamdiskReleased"].includes(e["type"]))) {
        assert.ok(Number.isFinite(e["duration_ms"]), `${e["type"]} has no duration`)
      }
      const image = detail.find((e) => e["type"] === "ImageWritten")!
      assert.equal(image["data"]["bytesWritten"], 64 * MiB)
      written += image["data"]["bytesWritten"]
      writeMs += image["duration_ms"]
    }
    const mib = written / MiB
    console.log(`# ${MACHINES} concurrent deploys on real servers: ${seconds.toFixed(1)} s to all active; ` +
      `${mib} MiB written, ${(mib / seconds).toFixed(1)} MiB/s end to end, ${(mib / (writeMs / 1000)).toFixed(1)} MiB/s per write step (mean)`)
  })

  test("undeploy, rebuild keeping the ephemeral partition, and a wrong key, side by side", async () => {
    // sim-00002: a marker near the end of its ephemeral partition, and that filesystem's UUID.
    const disk2 = join(machineDir(names[1]!), "disk.img")
    const parts = readMbr(disk2)
    assert.ok(typeof parts !== "string")
    const ephemeral = parts[0]!
    const ephemeralUuid = readExtUuid(disk2, ephemeral.startBytes)
    assert.equal(typeof ephemeralUuid, "string", "the deploy made no ephemeral filesystem")
    const marker = randomBytes(64 * 1024)
    const markerAt = ephemeral.startBytes + ephemeral.sizeBytes - MiB
    const fd = openSync(disk2, "r+")
    try { writeSync(fd, marker, 0, marker.length, markerAt) } finally { closeSync(fd) }
    await setInstanceInfo(names[1]!, { preserve_ephemeral: true })

    // sim-00005: its ramdisk will post a key that is not the deploy's.
    setFaults(names[4]!, { wrongKey: true })
    const before5 = statusOf(names[4]!)!.pid

    const activeSince = (await node(names[1]!))["provision_updated_at"]
    await Promise.all([provision(names[0]!, "deleted"), provision(names[1]!, "rebuild"), provision(names[4]!, "rebuild")])

    await reach(names[0]!, "available", 60_000)
    await assertCleanedUp(names[0]!, macs.get(names[0]!)!)
    // The cleaning booted the ramdisk again and wiped the partition table over iSCSI.
    const disk1 = join(machineDir(names[0]!), "disk.img")
    assert.ok(readAt(disk1, 0, 18 * 1024).every((b) => b === 0), "undeploy left the partition table on the disk")
    assert.ok(typeof readMbr(disk1) === "string", "the disk still holds an MBR after undeploy")

    const rebuilt = await reach(names[1]!, "active", 60_000, activeSince)
    assert.equal(rebuilt["power_state"], "power on")
    await machineReaches(names[1]!, "booted", 15_000)
    assertRootHoldsImage(names[1]!, sampleImage)
    assert.equal(readExtUuid(disk2, ephemeral.startBytes), ephemeralUuid, "the ephemeral filesystem was made anew")
    assert.ok(readAt(disk2, markerAt, marker.length).equals(marker), "the ephemeral partition's bytes changed")
    assert.equal(lastOperation(await history(names[1]!, true), "DeployRequested")[0]!["data"]["preserveEphemeral"], true)

    const posted = await machineReaches(names[4]!, "called-back", 30_000, before5)
    assert.ok((posted.callbackStatus ?? 0) >= 400, `the wrong key was answered ${posted.callbackStatus}`)
    await sleep(1000)
    const waiting = await node(names[4]!)
    assert.equal(waiting["provision_state"], "wait call-back", "a wrong key disturbed the node")
    const rejected = (await history(names[4]!)).filter((e) => e["type"] === "CallbackRejected")
    assert.equal(rejected.length, 1)
    assert.match(rejected[0]!["event"], /deploy key does not match/)
    assert.equal(statusOf(names[4]!)?.state, "called-back", "the ramdisk stopped waiting")
    // Nothing else will come: abort it, which cleans up like any failed deploy.
    await provision(names[4]!, "abort")
    await reach(names[4]!, "deploy failed", 30_000)
    await assertCleanedUp(names[4]!, macs.get(names[4]!)!)
    setFaults(names[4]!, {})
  })

  test("SIGTERM stops every process it started; a restart over the same log enrolls nothing twice and powers machines back on", async () => {
    const running = statusOf(names[2]!)!.pid
    assert.equal(await stopServe(), 0)
    await assertNoStrays()
    await startServe(["--deploy-callback-timeout", "8"])
    const list = (await ok("GET", "/v1/nodes"))["nodes"] as Doc[]
    assert.deepEqual(list.map((n) => n["name"]).sort(), names)
    assert.equal(((await ok("GET", "/v1/ports"))["ports"] as Doc[]).length, MACHINES)
    // Active nodes were on: their machines boot their disks again.
    const booted = await machineReaches(names[2]!, "booted", 20_000, running)
    assert.equal(booted.label, "boot")
    assert.equal((await node(names[2]!))["provision_state"], "active")
  })

  test("with an 8 s deploy_callback_timeout: a silent ramdisk times out, an erring one fails with its message; both are cleaned up", async () => {
    setFaults(names[2]!, { neverCallBack: true })
    setFaults(names[3]!, { postError: true })
    await Promise.all([provision(names[2]!, "rebuild"), provision(names[3]!, "rebuild")])

    const [timedOut, erred] = await Promise.all([reach(names[2]!, "deploy failed", 60_000), reach(names[3]!, "deploy failed", 60_000)])
    assert.match(timedOut["last_error"], /timed out waiting for the ramdisk/)
    const silent = lastOperation(await history(names[2]!), "DeployRequested").map((e) => e["type"])
    assert.ok(silent.includes("WaitTimedOut"))
    assert.ok(!silent.includes("IscsiReady") && !silent.includes("CallbackRejected"), "the silent ramdisk called back")
    assert.match(erred["last_error"], /simulated disk failure/)
    await Promise.all([assertCleanedUp(names[2]!, macs.get(names[2]!)!), assertCleanedUp(names[3]!, macs.get(names[3]!)!)])
    setFaults(names[2]!, {})
    setFaults(names[3]!, {})
  })

  test("a BMC that refuses `chassis bootdev pxe` fails the deploy at that step, its answer in the history; the machine is never powered on", async () => {
    const name = names[2]!
    // The knob of the BMC's chassis control program (src/adapters/sim/bmc/chassis-control.ts).
    const refuse = join(state, "rack", "bmcs", name, "refuse-boot-device")
    // After the tests above the node is in deploy failed; run alone (--test-name-pattern), it is
    // made available without cleaning first.
    if ((await node(name))["provision_state"] === "enroll") {
      await provision(name, "manage")
      await reach(name, "manageable", 30_000)
      await ok("PATCH", `/v1/nodes/${name}`, [{ op: "replace", path: "/automated_clean", value: false }])
      await provision(name, "provide")
      await reach(name, "available", 30_000)
    }
    writeFileSync(refuse, "")
    try {
      const boot = statusOf(name)?.pid
      // The failed deploy before may still be cleaning up: this one can wait in the node's queue.
      const failedSince = (await node(name))["provision_updated_at"]
      await provision(name, "active")
      const failed = await reach(name, "deploy failed", 60_000, failedSince)
      assert.match(failed["last_error"], /the BMC refused boot device pxe \(Set Chassis Boot Parameter 5 failed: Unspecified error\)/)
      const events = lastOperation(await history(name), "DeployRequested")
      const refusal = events.find((e) => e["type"] === "BootDeviceFailed")
      assert.ok(refusal !== undefined, `no BootDeviceFailed in ${events.map((e) => e["type"]).join(",")}`)
      assert.equal(refusal["severity"], "ERROR")
      assert.match(refusal["event"], /refused boot device pxe/)
      assert.ok(!events.some((e) => e["type"] === "BootDeviceSet" || e["type"] === "PowerOnRequested"), "the deploy went on past the refusal")
      // Cleaned up like any failed deploy: no PXE config left, and the machine never started.
      const deadline = Date.now() + 20_000
      while (existsSync(pxeLink(macs.get(name)!)) && Date.now() < deadline) await sleep(150)
      assert.equal(existsSync(pxeLink(macs.get(name)!)), false, "the PXE config link is still there")
      assert.equal((await node(name))["power_state"], "power off")
      assert.equal(statusOf(name)?.pid, boot, "the machine booted")
    } finally {
      rmSync(refuse, { force: true })
    }
  })

  test("SIGTERM again: nothing is left running", async () => {
    assert.equal(await stopServe(), 0)
    await assertNoStrays()
  })
})
