// Runs the PowerDriver contract against the ipmitool adapter (real ipmitool, real ipmi_sim BMCs on
// loopback) and the in-memory simulated driver, then what is particular to each: ipmitool's argv,
// its hard kill, retries of a busy BMC, and the ipmi_sim launcher's clean-up.
import { execFile } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { classifyFailure, parseBootDevice, parsePowerControl, parsePowerStatus } from "../../src/adapters/ipmi/answers.ts"
import { ipmitoolArgv, ipmitoolEnv } from "../../src/adapters/ipmi/argv.ts"
import { ipmitoolConfig, ipmitoolNoAnswerMs, type IpmitoolConfig } from "../../src/adapters/ipmi/config.ts"
import { IpmitoolPowerDriver, makeIpmitoolPowerDriver } from "../../src/adapters/ipmi/ipmitool-power-driver.ts"
import { freeUdpPort } from "../../src/adapters/sim/bmc/free-port.ts"
import { simBmc, startBmc, type SimBmc } from "../../src/adapters/sim/bmc/launcher.ts"
import { makeSimPower, SimPowerDriver, type SimBmcSpec } from "../../src/adapters/sim/power.ts"
import { BmcTimeout, type BmcAccess, type PowerError } from "../../src/ports/power-driver.ts"
import { powerDriverContract, type MachineView } from "./power-driver.contract.ts"

const PASSWORD = "s3cret-Pa55"
const run = <A>(effect: Effect.Effect<A, PowerError>) => Effect.runPromise(effect)
const failure = <A>(effect: Effect.Effect<A, PowerError>) => Effect.runPromise(Effect.flip(effect))
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** ipmitool's session flags in these tests (-N 1 -R 1): a silent BMC is given up after 2 s. */
const FAST: Partial<IpmitoolConfig> = { sessionTimeoutSec: 1, sessionRetries: 1, defaultMinCommandIntervalMs: 0, powerPollMs: 50 }

/** n real BMCs, each on its own UDP port and directory under `root`, started in parallel. */
const startFleet = async (root: string, n: number): Promise<SimBmc[]> => {
  const started = await Promise.allSettled(Array.from({ length: n }, async (_, i) => startBmc({
    name: `bmc${i}`, port: await freeUdpPort(), username: "admin", password: PASSWORD,
    stateDir: join(root, `bmc${i}`), killWaitSec: 1,
  })))
  const bmcs = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []))
  const failed = started.find((s) => s.status === "rejected")
  if (failed !== undefined) {
    await Promise.all(bmcs.map((b) => b.stop()))
    throw (failed as PromiseRejectedResult).reason
  }
  return bmcs
}

const isZombieOrGone = (pid: number) => {
  try { return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8")) } catch { return true }
}

/** Live ipmitool processes whose argv names this BMC port, with their argv and environment. */
const ipmitoolProcesses = (port: number) =>
  readdirSync("/proc").filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
      if (!argv[0]?.endsWith("ipmitool") || argv[argv.indexOf("-p") + 1] !== String(port)) return []
      if (isZombieOrGone(Number(pid))) return []
      return [{ pid: Number(pid), argv, environ: readFileSync(`/proc/${pid}/environ`, "utf8").split("\0") }]
    } catch {
      return [] // exited while we looked
    }
  })

powerDriverContract("ipmitool + ipmi_sim", async () => {
  const root = mkdtempSync(join(tmpdir(), "ironledger-bmcs-"))
  try {
    const fleet = await startFleet(root, 10)
    const byPort = new Map(fleet.map((b) => [b.access.port, b]))
    // Each request runs the BMC's chassis control program: ten BMCs at once on a loaded 2-core
    // host need a longer session timeout than an idle one answering from memory.
    return {
      layer: IpmitoolPowerDriver({ ...FAST, sessionTimeoutSec: 2 }),
      bmcs: fleet.map((b) => b.access),
      unreachable: { address: "127.0.0.1", port: await freeUdpPort(), username: "admin", password: Redacted.make(PASSWORD) },
      unreachableBoundMs: ipmitoolNoAnswerMs(2, 1),
      machine: (bmc) => byPort.get(bmc.port)!.machine(),
      recordedBootDevice: (bmc) => {
        const device = byPort.get(bmc.port)!.machine().bootDevice
        return device === null ? null : { device: device === "pxe" ? "pxe" : "disk" }
      },
      refuseBootDevice: (bmc) => writeFileSync(join(byPort.get(bmc.port)!.stateDir, "refuse-boot-device"), ""),
      // The chassis control program presses the machine's power button (SIGTERM).
      expects: { softPowerOff: "powers off", nmi: "unsupported" },
      close: async () => {
        await Promise.all(fleet.map((b) => b.stop()))
        rmSync(root, { recursive: true, force: true })
      },
    }
  } catch (e) {
    rmSync(root, { recursive: true, force: true })
    throw e
  }
})

powerDriverContract("simulated (in memory)", async () => {
  const specs: SimBmcSpec[] = Array.from({ length: 10 }, (_, i) =>
    ({ address: `sim-node-${i}`, port: 623, username: "admin", password: PASSWORD }))
  // The machine behind each BMC, driven only by the simulator's power hook.
  const machines = new Map<string, MachineView>()
  const sim = makeSimPower({
    bmcs: specs,
    unknownBmcs: "unreachable",
    unreachableAfterMs: 300,
    onPowerChange: ({ bmc, power }) => {
      const m = machines.get(bmc) ?? { running: false, boots: 0 }
      machines.set(bmc, { running: power === "power on", boots: m.boots + (power === "power on" ? 1 : 0) })
    },
  })
  const keyOf = (bmc: BmcAccess) => `${bmc.address}:${bmc.port}`
  return {
    layer: SimPowerDriver(sim),
    bmcs: specs.map((s) => ({ address: s.address, port: s.port, username: s.username, password: Redacted.make(s.password) })),
    unreachable: { address: "127.0.0.1", port: 9, username: "admin", password: Redacted.make(PASSWORD) },
    unreachableBoundMs: 300,
    machine: (bmc) => machines.get(keyOf(bmc)) ?? { running: false, boots: 0 },
    recordedBootDevice: (bmc) => sim.bootDeviceOf(keyOf(bmc)),
    expects: { softPowerOff: "powers off", nmi: "accepted" },
    close: async () => {},
  }
})

describe("ipmitool adapter: what the contract cannot see", () => {
  let root: string
  let bmc: SimBmc
  before(async () => {
    root = mkdtempSync(join(tmpdir(), "ironledger-ipmitool-"))
    bmc = (await startFleet(root, 1))[0]!
  })
  after(async () => {
    await bmc?.stop()
    rmSync(root, { recursive: true, force: true })
  })

  test("the password is never on ipmitool's argv: the built argv, and the live process's cmdline", async () => {
    const argv = ipmitoolArgv(ipmitoolConfig(FAST), bmc.access, { kind: "power", action: "on" })
    assert.ok(!argv.some((a) => a.includes(PASSWORD)), argv.join(" "))
    assert.ok(argv.includes("-E") && !argv.includes("-P"))
    assert.equal(ipmitoolEnv(bmc.access)["IPMI_PASSWORD"], PASSWORD)

    // A BMC that does not answer keeps ipmitool running for 2 s: long enough to read its /proc.
    const silent = { ...bmc.access, port: await freeUdpPort() }
    const pending = failure(makeIpmitoolPowerDriver(FAST).powerOn(silent))
    let seen: ReturnType<typeof ipmitoolProcesses> = []
    const deadline = Date.now() + 1500
    while (seen.length === 0 && Date.now() < deadline) {
      await pause(20)
      seen = ipmitoolProcesses(silent.port)
    }
    assert.equal(seen.length, 1, "ipmitool was seen running for the silent BMC")
    assert.ok(!seen[0]!.argv.join(" ").includes(PASSWORD), seen[0]!.argv.join(" "))
    // The same process holds it, in its environment (readable by its owner only).
    assert.ok(seen[0]!.environ.includes(`IPMI_PASSWORD=${PASSWORD}`))
    assert.equal((await pending)._tag, "BmcTimeout")
  })

  test("a hung ipmitool is SIGKILLed at the invocation timeout and reported as BmcTimeout", async () => {
    const silent = { ...bmc.access, port: await freeUdpPort() }
    // ipmitool itself would give up after 2 s; the hard limit is 400 ms.
    const driver = makeIpmitoolPowerDriver({ ...FAST, invocationTimeoutMs: 400 })
    const start = performance.now()
    const error = await failure(driver.status(silent))
    const elapsed = performance.now() - start
    // ipmitool's own give-up reports its run time (~2000 ms); the kill reports the limit.
    assert.deepEqual(error, new BmcTimeout({ bmc: `127.0.0.1:${silent.port}`, afterMs: 400 }))
    assert.ok(elapsed >= 390 && elapsed < 2000, `gave up after ${Math.round(elapsed)} ms`)
    await pause(100)
    assert.deepEqual(ipmitoolProcesses(silent.port), [], "the killed ipmitool is gone")
  })

  test("ipmitool processes over all BMCs are capped: six silent BMCs at once, at most two processes", async () => {
    const silent = await Promise.all(Array.from({ length: 6 }, async () => ({ ...bmc.access, port: await freeUdpPort() })))
    const driver = makeIpmitoolPowerDriver({ ...FAST, invocationTimeoutMs: 600, maxConcurrentProcesses: 2 })
    const start = performance.now()
    let done = false
    let most = 0
    const all = Promise.all(silent.map((b) => failure(driver.status(b)))).finally(() => { done = true })
    while (!done) {
      most = Math.max(most, silent.reduce((n, b) => n + ipmitoolProcesses(b.port).length, 0))
      await pause(20)
    }
    const errors = await all
    assert.ok(errors.every((e) => e._tag === "BmcTimeout"))
    assert.equal(most, 2, `${most} ipmitool processes at once`)
    // Three waves of two, each killed at 600 ms.
    assert.ok(performance.now() - start >= 3 * 590, `done after ${Math.round(performance.now() - start)} ms`)
  })

  test("answers of a busy BMC are retried with exponential backoff, and reported once retries run out", async () => {
    // In front of the real ipmitool: the first `busyCalls` runs answer as a loaded BMC makes ipmitool answer.
    const dir = mkdtempSync(join(root, "busy-"))
    const calls = join(dir, "calls")
    const wrapper = join(dir, "ipmitool")
    const busyFor = (busyCalls: number) => {
      rmSync(calls, { force: true })
      writeFileSync(wrapper, [
        "#!/bin/sh",
        `echo x >> '${calls}'`,
        `if [ "$(wc -l < '${calls}')" -le ${busyCalls} ]; then echo 'Set Chassis Power Control to Up/On failed: Node busy' >&2; exit 1; fi`,
        `exec ipmitool "$@"`,
      ].join("\n") + "\n")
      chmodSync(wrapper, 0o755)
    }
    const callCount = () => (existsSync(calls) ? readFileSync(calls, "utf8").split("\n").filter((l) => l !== "").length : 0)

    busyFor(2)
    const patient = makeIpmitoolPowerDriver({ ...FAST, ipmitoolPath: wrapper, busyRetries: 3, busyBackoffMs: 100 })
    const start = performance.now()
    await run(patient.powerOn(bmc.access))
    const elapsed = performance.now() - start
    assert.equal(await run(patient.status(bmc.access)), "power on")
    assert.ok(callCount() >= 4, `calls: ${callCount()}`) // 2 busy, "on", then status
    assert.ok(elapsed >= 100 + 200 - 5, `backoff is 100 then 200 ms, took ${Math.round(elapsed)} ms`)
    await run(patient.powerOff(bmc.access))

    busyFor(100)
    const error = await failure(makeIpmitoolPowerDriver({ ...FAST, ipmitoolPath: wrapper, busyRetries: 2, busyBackoffMs: 50 }).powerOn(bmc.access))
    assert.equal(error._tag, "BmcCommandFailed")
    assert.match(error.message, /still busy after 2 retries: .*Node busy/)
    assert.equal(callCount(), 3, "one try and two retries")
    assert.equal(await run(makeIpmitoolPowerDriver(FAST).status(bmc.access)), "power off")
  })

  test("ipmitool's answers are classified as ipmitool 1.8.19 prints them", () => {
    const out = (stderr: string, exitCode = 1, stdout = "") => ({ exitCode, stdout, stderr, elapsedMs: 7 })
    const k = "127.0.0.1:623"
    const classify = (stderr: string) => classifyFailure(k, "chassis power on", out(stderr))._tag
    const noSession = "\nError: Unable to establish IPMI v2 / RMCP+ session"
    assert.equal(classify(`RAKP 2 message indicates an error : insufficient resources for session${noSession}`), "BmcBusy")
    assert.equal(classify("Set Chassis Power Control to Up/On failed: Timeout"), "BmcBusy")
    assert.equal(classify(`Get Auth Capabilities error\nError issuing Get Channel Authentication Capabilities request${noSession}`), "BmcTimeout")
    assert.equal(classify(`> RAKP 2 HMAC is invalid${noSession}`), "BmcAuthFailed")
    assert.equal(classify(`Error in open session response message : no matching cipher suite${noSession}`), "BmcCommandFailed")
    assert.equal(classify("Set Chassis Power Control to Up/On failed: Invalid data field in request"), "BmcCommandFailed")
    assert.equal(parsePowerStatus(k, "chassis power status", out("", 0, "Chassis Power is on\n")), "power on")
    assert.equal(parsePowerStatus(k, "chassis power status", out("", 0, "Chassis Power is off\n")), "power off")
    // `chassis power diag` (inject NMI): ipmitool echoes "Diag"; ipmi_sim without a VM that takes NMIs refuses it.
    assert.equal(parsePowerControl(k, "chassis power diag", "diag", out("", 0, "Chassis Power Control: Diag\n")), null)
    assert.equal(parsePowerControl(k, "chassis power diag", "diag", out("Set Chassis Power Control to Diag failed: Invalid data field in request"))?._tag, "BmcUnsupported")
    // Output it does not know is an error, not a guess.
    const odd = parsePowerStatus(k, "chassis power status", out("", 0, "Chassis Power is on-ish\n"))
    assert.equal(typeof odd === "string" ? odd : odd._tag, "BmcCommandFailed")
    // `chassis bootdev` exits 0 when the BMC refuses: a refusal is an error, whatever the completion code.
    const bootdev = (stderr: string) => parseBootDevice(k, "chassis bootdev pxe", "pxe", out(stderr, 0))
    assert.equal(parseBootDevice(k, "chassis bootdev pxe", "pxe", out("", 0, "Set Boot Device to pxe\n")), null)
    for (const said of ["Invalid data field in request", "Unspecified error"]) {
      const refused = bootdev(`Set Chassis Boot Parameter 5 failed: ${said}`)
      assert.equal(refused?._tag, "BmcCommandFailed")
      assert.match(refused!.message, new RegExp(`the BMC refused boot device pxe \\(Set Chassis Boot Parameter 5 failed: ${said}\\)`))
    }
    assert.equal(bootdev("Set Chassis Boot Parameter 5 failed: Node busy")?._tag, "BmcBusy", "busy is retried, not a refusal")
  })

  test("bad BMC access is refused with a clear error before ipmitool runs", async () => {
    const driver = makeIpmitoolPowerDriver({ ...FAST, ipmitoolPath: "/nonexistent/ipmitool" })
    for (const [access, expected] of [
      [{ ...bmc.access, port: 70000 }, /invalid BMC port 70000/],
      [{ ...bmc.access, address: "-oProxyCommand" }, /invalid BMC address/],
      [{ ...bmc.access, username: "a-very-long-user-name" }, /user name must be at most 16 bytes/],
    ] as const) {
      const error = await failure(driver.status(access))
      assert.equal(error._tag, "BmcCommandFailed")
      assert.match(error.message, expected)
    }
  })
})

describe("ipmi_sim launcher", () => {
  let root: string
  before(() => { root = mkdtempSync(join(tmpdir(), "ironledger-launcher-")) })
  after(() => rmSync(root, { recursive: true, force: true }))

  test("the password file is owner-only, and stop leaves no process and no file behind", async () => {
    const [bmc] = await startFleet(root, 1)
    try {
      assert.equal(statSync(join(bmc!.stateDir, "lan.conf")).mode & 0o777, 0o600)
      await run(makeIpmitoolPowerDriver(FAST).powerOn(bmc!.access))
      const deadline = Date.now() + 3000
      while (!bmc!.machine().running && Date.now() < deadline) await pause(25)
      const machine = bmc!.machine()
      assert.ok(machine.running && machine.pid !== null)
      await bmc!.stop()
      assert.ok(isZombieOrGone(bmc!.pid), "ipmi_sim is gone")
      await pause(100)
      assert.ok(isZombieOrGone(machine.pid!), "the machine is gone")
      assert.equal(existsSync(bmc!.stateDir), false)
    } finally {
      await bmc!.stop()
    }
  })

  test("as a scoped resource it runs the given startCmd as the machine, and goes with its scope", async () => {
    const marker = join(root, "booted")
    const stateDir = join(root, "scoped")
    const seen = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const bmc = yield* simBmc({
        name: "scoped", port: yield* Effect.promise(() => freeUdpPort()), username: "admin", password: PASSWORD, stateDir,
        startCmd: `sh -c 'echo booted >> ${marker}; exec sleep 1000'`,
      })
      yield* makeIpmitoolPowerDriver(FAST).powerOn(bmc.access)
      yield* Effect.promise(() => pause(200))
      return { dirDuring: existsSync(stateDir), marker: existsSync(marker) ? readFileSync(marker, "utf8") : "", machine: bmc.machine() }
    })))
    assert.equal(seen.dirDuring, true)
    assert.equal(seen.marker, "booted\n")
    assert.ok(seen.machine.running && seen.machine.boots === 1)
    assert.equal(existsSync(stateDir), false, "the scope removed the BMC")
    await pause(100)
    assert.ok(isZombieOrGone(seen.machine.pid!), "the machine went with it")
  })

  test("the boot device chosen holds across power reset and power off/on; each boot of the machine starts from it", async () => {
    const booted = join(root, "booted-from")
    const bootFile = join(root, "kept", "boot-device")
    mkdirSync(join(root, "kept"))
    const bmc = await startBmc({
      name: "bootdev", port: await freeUdpPort(), username: "admin", password: PASSWORD, stateDir: join(root, "bootdev"), bootDeviceFile: bootFile,
      // The machine notes the device its BMC gave it for this boot.
      startCmd: `sh -c 'echo "$(cat "$IRONLEDGER_BOOT_DEVICE_FILE")" >> ${booted}; exec sleep 1000'`,
    })
    const driver = makeIpmitoolPowerDriver(FAST)
    const ipmitool = (...args: string[]) => new Promise<string>((resolve, reject) =>
      execFile("ipmitool", ["-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", String(bmc.access.port), "-U", "admin", "-E", ...args],
        { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", IPMI_PASSWORD: PASSWORD }, timeout: 10_000 },
        (e, stdout, stderr) => (e === null ? resolve(stdout + stderr) : reject(new Error(`ipmitool ${args.join(" ")}: ${stderr}`)))))
    const boots = () => (existsSync(booted) ? readFileSync(booted, "utf8").trim().split("\n") : [])
    const nextBoot = async (n: number) => {
      const deadline = Date.now() + 8000
      while ((boots().length < n || !bmc.machine().running) && Date.now() < deadline) await pause(25)
      assert.equal(boots().length, n, `boot ${n} did not happen: ${boots().join(",")}`)
      return boots()[n - 1]
    }
    try {
      // Asked once (not persistent): ipmi_sim is not told the difference, and keeps it.
      await run(driver.setBootDevice(bmc.access, "disk", false))
      await run(driver.powerOn(bmc.access))
      assert.equal(await nextBoot(1), "default")
      await ipmitool("chassis", "power", "reset")
      assert.equal(await nextBoot(2), "default", "the disk did not hold across a reset")
      assert.match(await ipmitool("chassis", "bootparam", "get", "5"), /Force Boot from default Hard-Drive/)

      await run(driver.setBootDevice(bmc.access, "pxe", true))
      await run(driver.reboot(bmc.access))
      assert.equal(await nextBoot(3), "pxe")
      await ipmitool("chassis", "power", "reset")
      assert.equal(await nextBoot(4), "pxe", "pxe did not hold across a reset")
      await run(driver.powerOff(bmc.access))
      await run(driver.powerOn(bmc.access))
      assert.equal(await nextBoot(5), "pxe", "pxe did not hold across power off/on")
      assert.match(await ipmitool("chassis", "bootparam", "get", "5"), /Force PXE/)
      assert.equal(readFileSync(bootFile, "utf8").trim(), "pxe", "kept where the BMC was told to keep it")
      await run(driver.powerOff(bmc.access))
    } finally {
      await bmc.stop()
    }
    assert.equal(readFileSync(bootFile, "utf8").trim(), "pxe", "the choice outlives the BMC")
  })

  test("a port already taken fails fast with the reason, and leaves no directory", async () => {
    const [first] = await startFleet(root, 1)
    try {
      const start = performance.now()
      await assert.rejects(
        startBmc({ name: "twin", port: first!.access.port, username: "admin", password: PASSWORD, stateDir: join(root, "twin"), serialPort: first!.serialPort }),
        (e: Error) => e.name === "BmcLaunchFailed" && /already in use/.test(e.message),
      )
      assert.ok(performance.now() - start < 5000)
      assert.equal(existsSync(join(root, "twin")), false)
    } finally {
      await first!.stop()
    }
  })
})
