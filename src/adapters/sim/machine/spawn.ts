// Creating a simulated machine: its directory and config file, and the command its BMC runs on
// power on (`startCmd` of src/adapters/sim/bmc/launcher.ts, run through `sh -c exec ...`).
import { mkdirSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as E from "fp-ts/lib/Either.js"
import { parseMachineConfig, type MachineConfig } from "./config.ts"

export const NODE_BIN = fileURLToPath(new URL("../../../../node_modules/.bin/node", import.meta.url))
export const MACHINE_PROGRAM = fileURLToPath(new URL("./machine.ts", import.meta.url))

/** A disk no partition layout fits (the smallest root is 1 GiB): the diskTooSmall fault. */
export const TOO_SMALL_DISK_BYTES = 64 * 1024 * 1024

export interface MachineSpec {
  readonly name: string
  readonly mac: string
  readonly address: string
  readonly diskBytes: number
  readonly tgtdControlPort: number
  readonly tftpServer?: string
  readonly iscsiPort?: number
  readonly releasePort?: number
  readonly releaseTimeoutMs?: number
  readonly tftpTimeoutMs?: number
  readonly callbackTimeoutMs?: number
  readonly rebootDelayMs?: number
  readonly faults?: {
    readonly neverCallBack?: boolean
    readonly postError?: boolean
    readonly wrongKey?: boolean
    readonly dieMidWrite?: { readonly afterBytes?: number; readonly afterMs?: number }
    /** Gives the machine a 64 MiB disk, whatever diskBytes says. */
    readonly diskTooSmall?: boolean
  }
}

export interface WrittenMachine {
  readonly configPath: string
  readonly config: MachineConfig
  /** The command for ipmi_sim's startcmd. */
  readonly startCmd: string
}

/**
 * Writes `<dir>/machine.json` (state in `<dir>/state`, disk at `<dir>/disk.img`, created by the
 * machine on first power on). Throws with the reason when the spec is not a valid machine.
 */
export const writeMachineConfig = (dir: string, spec: MachineSpec): WrittenMachine => {
  const root = resolve(dir)
  const { diskTooSmall, ...faults } = spec.faults ?? {}
  const raw = {
    ...spec,
    diskBytes: diskTooSmall === true ? TOO_SMALL_DISK_BYTES : spec.diskBytes,
    diskPath: join(root, "disk.img"),
    stateDir: join(root, "state"),
    faults,
  }
  const config = parseMachineConfig(raw)
  if (E.isLeft(config)) throw new Error(`machine ${spec.name}: ${config.left}`)
  mkdirSync(config.right.stateDir, { recursive: true })
  const configPath = join(root, "machine.json")
  writeFileSync(configPath, `${JSON.stringify(raw, null, 2)}\n`)
  return { configPath, config: config.right, startCmd: machineStartCmd(configPath) }
}

// Plain paths need no quoting; anything else is single-quoted for sh.
const shellWord = (s: string) => (/^[A-Za-z0-9_\/.,:=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

export const machineStartCmd = (configPath: string): string =>
  [NODE_BIN, "--disable-warning=ExperimentalWarning", MACHINE_PROGRAM, "--config", resolve(configPath)].map(shellWord).join(" ")

/** The i-th machine's own loopback address: 127.77.<hi>.<lo>, never .0 or .255. */
export const machineAddress = (index: number): string => {
  if (!Number.isInteger(index) || index < 0 || index >= 254 * 256) throw new Error(`machine index ${index} out of range`)
  return `127.77.${Math.floor(index / 254)}.${(index % 254) + 1}`
}

/** The i-th machine's MAC, in QEMU's locally administered 52:54:00 range. */
export const machineMac = (index: number): string => {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffff) throw new Error(`machine index ${index} out of range`)
  return ["52", "54", "00", (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff]
    .map((b) => (typeof b === "string" ? b : b.toString(16).padStart(2, "0"))).join(":")
}

/** The i-th machine's tgtd control port (tgtadm accepts 0-32767). */
export const machineTgtdControlPort = (index: number, base = 20000): number => {
  const port = base + index
  if (!Number.isInteger(port) || port < 0 || port > 32767) throw new Error(`tgtd control port ${port} out of range`)
  return port
}
