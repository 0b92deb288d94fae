// Starts real ipmi_sim BMCs on loopback, for the tests and for `ironledger serve --sim N`.
// One BMC = one ipmi_sim process (in a process group of its own, shared with the machine it
// powers) and one directory of files; stopping it kills the group and removes the directory.
import { spawn, type ChildProcess } from "node:child_process"
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { BmcAccess } from "../../../ports/power-driver.ts"
import { parsePowerStatus } from "../../ipmi/answers.ts"
import { bmcKey, ipmitoolArgv, ipmitoolEnv } from "../../ipmi/argv.ts"
import { ipmitoolConfig } from "../../ipmi/config.ts"
import { runIpmitool } from "../../ipmi/run.ts"
import { simChassisControlScript } from "./chassis-control.ts"
import { bmcEmu, IDLE_MACHINE, invalidBmcFiles, lanConf, machineScript } from "./config-files.ts"
import { freeTcpPort, tcpPortFree, udpPortFree } from "./free-port.ts"

export class BmcLaunchFailed extends Data.TaggedError("BmcLaunchFailed")<{ readonly bmc: string; readonly detail: string }> {
  override get message() { return `simulated BMC ${this.bmc} did not start: ${this.detail}` }
}

export interface SimBmcOptions {
  readonly name: string
  /** UDP port of the BMC's LAN interface. */
  readonly port: number
  readonly username: string
  readonly password: string
  /** This BMC's own directory: created (it must be absent or empty) and removed on stop. */
  readonly stateDir: string
  /**
   * The simulated machine, run (through sh `exec`) on power on and killed on power off; default: an
   * idle process. It finds its boot device through IRONLEDGER_BOOT_DEVICE_FILE (./chassis-control.ts).
   */
  readonly startCmd?: string
  /** Where the boot device is kept; default: in stateDir (gone with the BMC). */
  readonly bootDeviceFile?: string
  readonly address?: string
  /** TCP port of the VM serial interface; default: a free one. */
  readonly serialPort?: number
  /** Seconds between SIGTERM (the power button) and SIGKILL at power off; default 2. */
  readonly killWaitSec?: number
  /** Bound on start-up, until the BMC answers a power status request; default 10000 ms. */
  readonly readyTimeoutMs?: number
  readonly ipmiSimPath?: string
  readonly ipmitoolPath?: string
}

export interface MachineState {
  readonly running: boolean
  /** pid of the machine's current (or last) boot. */
  readonly pid: number | null
  /** How many times the machine was started. */
  readonly boots: number
  /** "pxe" or "default" (the disk) as the last `chassis bootdev` set it; null: never set. */
  readonly bootDevice: string | null
}

export interface SimBmc extends AsyncDisposable {
  readonly name: string
  readonly access: BmcAccess
  readonly serialPort: number
  readonly stateDir: string
  /** pid of ipmi_sim. */
  readonly pid: number
  readonly machine: () => MachineState
  /** Kills ipmi_sim and the machine, removes the directory. Idempotent. */
  readonly stop: () => Promise<void>
}

// Process groups still running, killed if this process exits without stopping them.
const live = new Map<number, string>()
let exitHookInstalled = false
const installExitHook = () => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once("exit", () => {
    for (const [pid, dir] of live) {
      try { process.kill(-pid, "SIGKILL") } catch { /* already gone */ }
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

const isAlive = (pid: number): boolean => {
  try {
    // A zombie still answers kill(0): read its state instead.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

/** Whether something has bound `address:port` over UDP (ipmi_sim binds its LAN port last). */
const udpBound = (address: string, port: number): boolean => {
  const hex = address.split(".").reverse().map((b) => Number(b).toString(16).padStart(2, "0")).join("").toUpperCase()
  const local = `${hex}:${port.toString(16).toUpperCase().padStart(4, "0")}`
  try {
    return readFileSync("/proc/net/udp", "utf8").split("\n").some((line) => line.trim().split(/\s+/)[1] === local)
  } catch {
    return false
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const waitForExit = (child: ChildProcess, withinMs: number): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((done) => {
      const timer = setTimeout(done, withinMs)
      child.once("exit", () => { clearTimeout(timer); done() })
    })

export const startBmc = async (options: SimBmcOptions): Promise<SimBmc> => {
  const address = options.address ?? "127.0.0.1"
  const stateDir = resolve(options.stateDir)
  const fail = (detail: string) => new BmcLaunchFailed({ bmc: options.name, detail })
  if (/["'\s]/.test(stateDir)) throw fail(`state directory ${stateDir}: no quotes or spaces`)
  const files = {
    lanConf: join(stateDir, "lan.conf"),
    emu: join(stateDir, "bmc.emu"),
    machine: join(stateDir, "machine.sh"),
    chassisControl: join(stateDir, "chassis-control"),
    chassisLog: join(stateDir, "chassis.log"),
    bootDevice: options.bootDeviceFile === undefined ? join(stateDir, "boot-device") : resolve(options.bootDeviceFile),
    machinePid: join(stateDir, "machine.pid"),
    boots: join(stateDir, "machine.boots"),
    persist: join(stateDir, "state"),
    log: join(stateDir, "ipmi_sim.log"),
  }
  const spec = {
    name: options.name, address, port: options.port,
    serialPort: options.serialPort ?? await freeTcpPort(address),
    username: options.username, password: options.password,
    chassisControl: files.chassisControl,
  }
  const killWaitSec = options.killWaitSec ?? 2
  if (!Number.isInteger(killWaitSec) || killWaitSec < 0) throw fail("kill_wait must be a whole number of seconds")
  const invalid = invalidBmcFiles(spec)
  if (invalid !== null) throw fail(invalid)
  // Checked first: a BMC already on the port would answer the readiness probe in this one's place.
  if (!await udpPortFree(address, spec.port)) throw fail(`UDP port ${spec.port} on ${address} is already in use`)
  if (!await tcpPortFree(address, spec.serialPort)) throw fail(`TCP port ${spec.serialPort} on ${address} (serial) is already in use`)
  mkdirSync(stateDir, { recursive: true })
  if (readdirSync(stateDir).length > 0) throw fail(`state directory ${stateDir} is not empty`)

  // lan.conf holds the BMC's password: owner-only, like a real BMC's user store.
  writeFileSync(files.lanConf, lanConf(spec), { mode: 0o600 })
  writeFileSync(files.emu, bmcEmu)
  writeFileSync(files.machine, machineScript(files.boots, options.startCmd ?? IDLE_MACHINE), { mode: 0o700 })
  writeFileSync(files.chassisControl, simChassisControlScript(options.name, {
    dir: stateDir, machineScript: files.machine, pidFile: files.machinePid, bootFile: files.bootDevice,
    log: files.chassisLog, output: files.log, killWaitSec,
  }), { mode: 0o700 })
  mkdirSync(files.persist)
  const log = openSync(files.log, "a")
  let child: ChildProcess
  try {
    // detached: a process group of its own, which the machines it starts join; killed as one.
    child = spawn(options.ipmiSimPath ?? "ipmi_sim", ["-c", files.lanConf, "-f", files.emu, "-s", files.persist, "-n"], {
      cwd: stateDir, detached: true, stdio: ["ignore", log, log],
    })
  } finally {
    closeSync(log)
  }
  let spawnError: Error | null = null
  child.once("error", (e) => { spawnError = e })
  const pid = child.pid
  if (pid !== undefined) live.set(pid, stateDir)
  installExitHook()

  let stopped: Promise<void> | null = null
  const stop = () => {
    stopped ??= (async () => {
      if (pid !== undefined) {
        try { process.kill(-pid, "SIGKILL") } catch { /* group already gone */ }
        await waitForExit(child, 5000)
        live.delete(pid)
      }
      rmSync(stateDir, { recursive: true, force: true })
    })()
    return stopped
  }
  const access: BmcAccess = { address, port: options.port, username: options.username, password: Redacted.make(options.password) }
  const readLog = () => { try { return readFileSync(files.log, "utf8").trim().slice(-500) } catch { return "" } }

  try {
    // The probe's answer runs the chassis control program: slow when many BMCs start on a busy host.
    await waitUntilAnswering(child, access, options.readyTimeoutMs ?? 10_000, options.ipmitoolPath, () => spawnError)
  } catch (e) {
    const said = readLog()
    await stop()
    throw fail(`${(e as Error).message}${said === "" ? "" : ` (ipmi_sim said: ${said})`}`)
  }

  const machine = (): MachineState => {
    const read = (path: string) => { try { return readFileSync(path, "utf8") } catch { return "" } }
    const machinePid = Number.parseInt(read(files.machinePid), 10)
    const known = Number.isInteger(machinePid) ? machinePid : null
    return {
      running: known !== null && isAlive(known),
      pid: known,
      boots: read(files.boots).split("\n").filter((l) => l !== "").length,
      bootDevice: read(files.bootDevice).trim() || null,
    }
  }

  return {
    name: options.name, access, serialPort: spec.serialPort, stateDir, pid: pid!, machine, stop,
    [Symbol.asyncDispose]: stop,
  }
}

/** Waits for the LAN port, then for an answer to "chassis power status", within `withinMs`. */
const waitUntilAnswering = async (
  child: ChildProcess, access: BmcAccess, withinMs: number, ipmitoolPath: string | undefined, spawnError: () => Error | null,
) => {
  const deadline = performance.now() + withinMs
  const exited = () => child.exitCode !== null || child.signalCode !== null
  while (!udpBound(access.address, access.port)) {
    const error = spawnError()
    if (error !== null) throw new Error(`cannot run ipmi_sim: ${error.message}`)
    if (exited()) throw new Error(`ipmi_sim exited (code ${child.exitCode}, signal ${child.signalCode})`)
    if (performance.now() > deadline) throw new Error(`UDP port ${access.port} not open after ${withinMs} ms`)
    await sleep(20)
  }
  const config = ipmitoolConfig({ ipmitoolPath: ipmitoolPath ?? "ipmitool", sessionTimeoutSec: 1, sessionRetries: 2 })
  const probe = runIpmitool({
    program: config.ipmitoolPath,
    argv: ipmitoolArgv(config, access, { kind: "power", action: "status" }),
    env: ipmitoolEnv(access),
    timeoutMs: Math.max(500, Math.round(deadline - performance.now())),
    bmc: bmcKey(access),
    command: "chassis power status",
  })
  const out = await Effect.runPromise(Effect.result(probe))
  if (out._tag === "Failure") throw new Error(`no answer to a power status probe: ${out.failure.message}`)
  const answer = parsePowerStatus(bmcKey(access), "chassis power status", out.success)
  if (typeof answer !== "string") throw new Error(`power status probe: ${answer.message}`)
  if (exited()) throw new Error(`ipmi_sim exited (code ${child.exitCode}, signal ${child.signalCode})`)
}

/** The same BMC as a scoped resource: stopped and removed when the scope closes. */
export const simBmc = (options: SimBmcOptions): Effect.Effect<SimBmc, BmcLaunchFailed, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => startBmc(options),
      catch: (e) => e instanceof BmcLaunchFailed ? e : new BmcLaunchFailed({ bmc: options.name, detail: String(e) }),
    }),
    (bmc) => Effect.promise(() => bmc.stop()),
  )
