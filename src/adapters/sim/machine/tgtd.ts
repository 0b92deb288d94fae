// The deploy ramdisk's iSCSI target: a tgtd of the machine's own (src/adapters/sim/tgt: own control
// port, portal on the machine's own address), plus a pid file so that the next power on reaps a
// tgtd left running when the machine was SIGKILLed (ipmi_sim does that after kill_wait).
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Redacted from "effect/Redacted"
import { controlSocketPath } from "../tgt/account.ts"
import { TgtDaemon } from "../tgt/index.ts"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Field 22 of /proc/<pid>/stat (start time in clock ticks): tells a pid apart from a reused one. */
const startTicks = (pid: number): string | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return fields[0] === "Z" ? null : (fields[19] ?? null)
  } catch {
    return null
  }
}

const pidFile = (stateDir: string) => join(stateDir, "tgtd.pid")

interface Recorded { readonly pid: number; readonly startTicks: string | null; readonly controlPort: number }

/** Kills the tgtd an earlier boot left behind: only that exact process (same pid, same start time). */
export const reapStaleTgtd = async (stateDir: string): Promise<number | null> => {
  let recorded: Recorded
  try {
    recorded = JSON.parse(readFileSync(pidFile(stateDir), "utf8"))
  } catch {
    return null
  }
  let reaped: number | null = null
  if (Number.isInteger(recorded.pid) && recorded.startTicks !== null && startTicks(recorded.pid) === recorded.startTicks) {
    try { process.kill(recorded.pid, "SIGKILL") } catch { /* gone meanwhile */ }
    for (let i = 0; i < 100 && startTicks(recorded.pid) !== null; i++) await sleep(20)
    reaped = recorded.pid
  }
  // A killed tgtd leaves its control socket and lock file behind.
  if (Number.isInteger(recorded.controlPort)) {
    rmSync(controlSocketPath(recorded.controlPort), { force: true })
    rmSync(`${controlSocketPath(recorded.controlPort)}.lock`, { force: true })
  }
  rmSync(pidFile(stateDir), { force: true })
  return reaped
}

export interface DiskExport {
  readonly iqn: string
  readonly diskPath: string
  readonly chapUser: string
  readonly chapSecret: string
}

export interface RamdiskTarget {
  readonly pid: number
  /** SIGKILL, now, synchronously: for a simulated crash and for exit hooks. */
  readonly killNow: () => void
  /** Removes the target and stops tgtd. Idempotent. */
  readonly stop: () => Promise<void>
}

export interface RamdiskTargetOptions {
  readonly controlPort: number
  readonly address: string
  readonly port: number
  readonly stateDir: string
  readonly export: DiskExport
}

/** tgtd on the machine's portal exporting its disk as LUN 1 of `export.iqn`, behind CHAP. */
export const startRamdiskTarget = async (options: RamdiskTargetOptions): Promise<RamdiskTarget> => {
  await reapStaleTgtd(options.stateDir)
  const daemon = await TgtDaemon.start({ address: options.address, portalPort: options.port, controlPort: options.controlPort })
  const recorded: Recorded = { pid: daemon.pid, startTicks: startTicks(daemon.pid), controlPort: daemon.controlPort }
  writeFileSync(pidFile(options.stateDir), JSON.stringify(recorded))
  const killNow = () => {
    try { process.kill(daemon.pid, "SIGKILL") } catch { /* already gone */ }
  }
  let stopping: Promise<void> | null = null
  const stop = () => {
    stopping ??= daemon.stop().finally(() => rmSync(pidFile(options.stateDir), { force: true }))
    return stopping
  }
  try {
    const e = options.export
    await daemon.addTarget({ iqn: e.iqn, backingFile: e.diskPath, chap: { user: e.chapUser, secret: Redacted.make(e.chapSecret) } })
  } catch (error) {
    await stop()
    throw error
  }
  return { pid: daemon.pid, killNow, stop }
}
