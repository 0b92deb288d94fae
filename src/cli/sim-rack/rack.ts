// A rack of simulated servers on real programs, for `ironledger serve --sim N`: per machine, a real
// ipmi_sim BMC on its own UDP port (credentials generated at each start) whose power on runs the
// machine simulator (src/adapters/sim/machine) on the machine's own loopback address. Machines
// keep their directory (disk, status, fault knobs in machine.json) across restarts; BMCs do not.
//   <dir>/machines/<name>/{machine.json,disk.img,boot-device,state/}   <dir>/bmcs/<name>/ and <name>.pid
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { startBmc, type SimBmc } from "../../adapters/sim/bmc/launcher.ts"
import { freeTcpPort, freeUdpPort } from "../../adapters/sim/bmc/free-port.ts"
import { readStatus, type MachineStatus } from "../../adapters/sim/machine/status.ts"
import {
  machineAddress, machineMac, machineTgtdControlPort, writeMachineConfig, type MachineSpec,
} from "../../adapters/sim/machine/spawn.ts"
import { reapStaleTgtd } from "../../adapters/sim/machine/tgtd.ts"
import { blockingListeners, describeListeners } from "./preflight.ts"

/** Sparse; local_gb of the node. Room for a 1 GiB root plus a 1 GiB ephemeral partition. */
export const RACK_DISK_GB = 3
const ISCSI_PORT = 3260

export interface RackMachine {
  readonly name: string
  readonly mac: string
  /** The machine's own loopback address: its iSCSI portal and "done" listener. */
  readonly address: string
  readonly iscsiPort: number
  readonly dir: string
  readonly configPath: string
  readonly stateDir: string
  readonly diskPath: string
  readonly diskBytes: number
  readonly bmc: SimBmc
  readonly status: () => MachineStatus | null
}

export interface SimRackOptions {
  readonly dir: string
  readonly count: number
  /** The TFTP server the machines PXE boot from. */
  readonly tftpServer: string
  /** Where each machine's deploy ramdisk waits for "done" (the conductor's ramdiskReleasePort). */
  readonly releasePort: number
  readonly log: (line: string) => void
}

export interface SimRack {
  readonly machines: ReadonlyArray<RackMachine>
  /** Powers every machine off, stops every BMC and leftover tgtd. Idempotent. */
  readonly stop: () => Promise<void>
}

export const rackMachineName = (i: number) => `sim-${String(i).padStart(5, "0")}`

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Runs `work` over `items`, at most `limit` at a time (each BMC start spawns ipmi_sim and ipmitool).
 * After a failure no new item starts; it is thrown once the running ones have ended.
 */
const eachLimited = async <A>(items: ReadonlyArray<A>, limit: number, work: (item: A) => Promise<void>) => {
  let next = 0
  let failure: { error: unknown } | null = null
  const worker = async () => {
    while (failure === null && next < items.length) {
      try { await work(items[next++]!) } catch (error) { failure ??= { error } }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failure !== null) throw (failure as { error: unknown }).error
}

const groupAlive = (pgid: number) => { try { process.kill(-pgid, 0); return true } catch { return false } }
const waitUntil = async (ms: number, done: () => boolean) => {
  for (const deadline = Date.now() + ms; !done() && Date.now() < deadline;) await sleep(25)
}

/** An ipmi_sim a crashed earlier run left behind (its pid file says which): killed with its machine. */
const reapLeftoverBmc = async (pidFile: string) => {
  const pid = Number.parseInt(existsSync(pidFile) ? readFileSync(pidFile, "utf8") : "", 10)
  if (Number.isInteger(pid) && pid > 1) {
    let comm = ""
    try { comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim() } catch { /* gone */ }
    if (comm === "ipmi_sim") {
      try { process.kill(-pid, "SIGKILL") } catch { /* gone meanwhile */ }
      await waitUntil(3000, () => !groupAlive(pid))
    }
  }
  rmSync(pidFile, { force: true })
}

/** Fault knobs set by hand (or by a test) in an existing machine.json survive a restart. */
const keptFaults = (configPath: string): MachineSpec["faults"] => {
  try {
    const faults = JSON.parse(readFileSync(configPath, "utf8"))["faults"]
    return typeof faults === "object" && faults !== null ? faults : {}
  } catch {
    return {}
  }
}

/** The iSCSI port machines use: 3260, unless a listener elsewhere takes it from them (reported). */
const iscsiPortFor = async (addresses: ReadonlyArray<string>, log: (line: string) => void) => {
  const blocking = blockingListeners(ISCSI_PORT, addresses)
  if (blocking.length === 0) return () => Promise.resolve(ISCSI_PORT)
  log(`warning: ${describeListeners(blocking)} takes port ${ISCSI_PORT} on the machines' addresses ` +
    "(a stray tgtd?); the simulated machines export their disks on other ports")
  return (address: string) => freeTcpPort(address)
}

export const startSimRack = async (options: SimRackOptions): Promise<SimRack> => {
  const indexes = Array.from({ length: options.count }, (_, k) => k + 1)
  const addresses = indexes.map((i) => machineAddress(i - 1))
  const releaseBlocked = blockingListeners(options.releasePort, addresses)
  if (releaseBlocked.length > 0) {
    throw new Error(`${describeListeners(releaseBlocked)} holds port ${options.releasePort}, where the simulated deploy ramdisks wait for "done"`)
  }
  const iscsiPort = await iscsiPortFor(addresses, options.log)
  mkdirSync(join(options.dir, "bmcs"), { recursive: true })
  const started: SimBmc[] = []
  const machines: RackMachine[] = []

  const stop = async () => {
    // A clean power off first, so each machine removes its own target; then the BMCs, as one kill.
    for (const b of started) {
      const m = b.machine()
      if (m.running && m.pid !== null) try { process.kill(m.pid, "SIGTERM") } catch { /* gone */ }
    }
    await waitUntil(2000, () => started.every((b) => !b.machine().running))
    await Promise.all(started.map((b) => b.stop()))
    await waitUntil(3000, () => started.every((b) => !groupAlive(b.pid)))
    // A tgtd the kill caught mid-deploy, and its control socket.
    await Promise.all(machines.map((m) => reapStaleTgtd(m.stateDir).catch(() => null)))
    for (const m of machines) rmSync(join(options.dir, "bmcs", `${m.name}.pid`), { force: true })
    started.length = 0
  }

  try {
    await eachLimited(indexes, 8, async (i) => {
      const name = rackMachineName(i)
      const address = addresses[i - 1]!
      const dir = join(options.dir, "machines", name)
      const configPath = join(dir, "machine.json")
      const port = await iscsiPort(address)
      const written = writeMachineConfig(dir, {
        name, mac: machineMac(i), address, diskBytes: RACK_DISK_GB * 1024 ** 3, tgtdControlPort: machineTgtdControlPort(i),
        tftpServer: options.tftpServer, iscsiPort: port, releasePort: options.releasePort, faults: keptFaults(configPath),
      })
      const pidFile = join(options.dir, "bmcs", `${name}.pid`)
      await reapLeftoverBmc(pidFile)
      const bmcDir = join(options.dir, "bmcs", name)
      rmSync(bmcDir, { recursive: true, force: true })
      const bmc = await startBmc({
        name, port: await freeUdpPort("127.0.0.1"), stateDir: bmcDir, startCmd: written.startCmd,
        // Beside the machine: the boot device a deploy chose outlives the BMC, recreated at each start.
        bootDeviceFile: join(dir, "boot-device"),
        // 16 characters: with 20, ipmitool's RAKP exchange with ipmi_sim fails ("RAKP 2 HMAC is invalid").
        username: `bmc-${randomBytes(3).toString("hex")}`, password: randomBytes(8).toString("hex"),
      })
      started.push(bmc)
      writeFileSync(pidFile, String(bmc.pid))
      const stateDir = written.config.stateDir
      machines.push({
        name, mac: written.config.mac, address, iscsiPort: port, dir, configPath: written.configPath, stateDir,
        diskPath: written.config.diskPath, diskBytes: written.config.diskBytes, bmc, status: () => readStatus(stateDir),
      })
    })
  } catch (e) {
    await stop()
    throw e
  }
  machines.sort((a, b) => a.name.localeCompare(b.name))
  return { machines, stop }
}
