// The JSON file one simulated server runs from, written by whoever creates the machine (see
// ./spawn.ts). It names the machine's own loopback address (its iSCSI portal and release listener
// live there, so many machines can use the standard ports side by side), its disk and its faults.
import { readFileSync } from "node:fs"
import { isAbsolute } from "node:path"
import * as E from "fp-ts/lib/Either.js"
import { parseMac } from "../../../domain/values.ts"

export interface DieMidWrite {
  /** Die once the disk file has grown by this many allocated bytes since the export. */
  readonly afterBytes: number | null
  /** Die this long after the first write to the disk is seen (works on a disk already full of data). */
  readonly afterMs: number | null
}

export interface MachineFaults {
  /** Exports its disk but never posts pass_deploy_info. */
  readonly neverCallBack: boolean
  /** Posts with error "simulated disk failure". */
  readonly postError: boolean
  /** Posts a key other than the deployment_key of its PXE config. */
  readonly wrongKey: boolean
  /** Kills its tgtd and exits hard while the conductor writes the image. */
  readonly dieMidWrite: DieMidWrite | null
}

export interface MachineConfig {
  readonly name: string
  /** Canonical (lowercase, colons); its PXE config is pxelinux.cfg/01-<mac with dashes>. */
  readonly mac: string
  /** The machine's own 127.x.y.z: iSCSI portal and release listener bind here. */
  readonly address: string
  readonly tftpServer: string
  readonly diskPath: string
  readonly diskBytes: number
  readonly stateDir: string
  /** tgtd's management channel (-C), 0-32767; unique per machine. */
  readonly tgtdControlPort: number
  readonly iscsiPort: number
  readonly releasePort: number
  /** Bound on the deploy ramdisk's wait for "done". */
  readonly releaseTimeoutMs: number
  /** Bound on one TFTP transfer. */
  readonly tftpTimeoutMs: number
  /** Bound on the pass_deploy_info POST (all attempts). */
  readonly callbackTimeoutMs: number
  /** How long a "reboot" takes before the machine PXE boots again. */
  readonly rebootDelayMs: number
  readonly faults: MachineFaults
}

export const DEFAULTS = {
  tftpServer: "127.0.0.1",
  iscsiPort: 3260,
  releasePort: 10000,
  releaseTimeoutMs: 30 * 60 * 1000,
  tftpTimeoutMs: 10_000,
  callbackTimeoutMs: 30_000,
  rebootDelayMs: 500,
} as const

const LOOPBACK = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/
const isLoopback = (s: unknown): s is string => {
  const m = typeof s === "string" ? LOOPBACK.exec(s) : null
  return m !== null && m.slice(1).every((b) => Number(b) <= 255)
}
const isPort = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) < 65536
const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const KNOWN = new Set([
  "name", "mac", "address", "tftpServer", "diskPath", "diskBytes", "stateDir", "tgtdControlPort", "iscsiPort",
  "releasePort", "releaseTimeoutMs", "tftpTimeoutMs", "callbackTimeoutMs", "rebootDelayMs", "faults",
])
const KNOWN_FAULTS = new Set(["neverCallBack", "postError", "wrongKey", "dieMidWrite"])

const parseFaults = (raw: unknown): E.Either<string, MachineFaults> => {
  if (raw === undefined) return E.right({ neverCallBack: false, postError: false, wrongKey: false, dieMidWrite: null })
  if (!isRecord(raw)) return E.left("faults must be an object")
  const unknown = Object.keys(raw).filter((k) => !KNOWN_FAULTS.has(k))
  if (unknown.length > 0) return E.left(`unknown fault knob(s): ${unknown.join(", ")}`)
  for (const k of ["neverCallBack", "postError", "wrongKey"] as const) {
    if (raw[k] !== undefined && typeof raw[k] !== "boolean") return E.left(`faults.${k} must be true or false`)
  }
  let dieMidWrite: DieMidWrite | null = null
  if (raw["dieMidWrite"] !== undefined && raw["dieMidWrite"] !== null) {
    const d = raw["dieMidWrite"]
    if (!isRecord(d)) return E.left("faults.dieMidWrite must be {afterBytes?, afterMs?}")
    const afterBytes = d["afterBytes"] ?? null
    const afterMs = d["afterMs"] ?? null
    if (afterBytes !== null && !(isCount(afterBytes) && afterBytes > 0)) return E.left("faults.dieMidWrite.afterBytes must be a whole number > 0")
    if (afterMs !== null && !isCount(afterMs)) return E.left("faults.dieMidWrite.afterMs must be a whole number of milliseconds")
    if (afterBytes === null && afterMs === null) return E.left("faults.dieMidWrite needs afterBytes or afterMs")
    dieMidWrite = { afterBytes: afterBytes as number | null, afterMs: afterMs as number | null }
  }
  return E.right({
    neverCallBack: raw["neverCallBack"] === true,
    postError: raw["postError"] === true,
    wrongKey: raw["wrongKey"] === true,
    dieMidWrite,
  })
}

/** The configuration, or a sentence saying what is wrong with it. */
export const parseMachineConfig = (raw: unknown): E.Either<string, MachineConfig> => {
  if (!isRecord(raw)) return E.left("a machine config must be a JSON object")
  const unknown = Object.keys(raw).filter((k) => !KNOWN.has(k))
  if (unknown.length > 0) return E.left(`unknown field(s): ${unknown.join(", ")}`)
  const r: Record<string, unknown> = { ...DEFAULTS, ...Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) }
  if (typeof r.name !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(r.name)) return E.left("name: 1-64 letters, digits, '.', '_' or '-'")
  const mac = typeof r.mac === "string" ? parseMac(r.mac) : E.left("mac is missing")
  if (E.isLeft(mac)) return mac
  if (!isLoopback(r.address)) return E.left(`address ${String(r.address)}: a simulated machine lives on a 127.x.y.z address`)
  if (!isLoopback(r.tftpServer)) return E.left(`tftpServer ${String(r.tftpServer)}: only loopback TFTP servers are allowed`)
  for (const k of ["diskPath", "stateDir"] as const) {
    // tgtd splits its parameters on commas: a path with one would not reach it intact.
    if (typeof r[k] !== "string" || !isAbsolute(r[k] as string) || /[,\n\0]/.test(r[k] as string)) {
      return E.left(`${k} must be an absolute path without commas`)
    }
  }
  if (!isCount(r.diskBytes) || (r.diskBytes as number) < 512 || (r.diskBytes as number) % 512 !== 0) {
    return E.left("diskBytes must be a whole number of 512-byte sectors")
  }
  if (!Number.isInteger(r.tgtdControlPort) || (r.tgtdControlPort as number) < 0 || (r.tgtdControlPort as number) > 32767) {
    return E.left("tgtdControlPort must be 0-32767 (tgtadm's range)")
  }
  for (const k of ["iscsiPort", "releasePort"] as const) if (!isPort(r[k])) return E.left(`${k} must be a TCP port number`)
  if (r.iscsiPort === r.releasePort) return E.left("iscsiPort and releasePort must differ")
  for (const k of ["releaseTimeoutMs", "tftpTimeoutMs", "callbackTimeoutMs", "rebootDelayMs"] as const) {
    if (!isCount(r[k])) return E.left(`${k} must be a whole number of milliseconds`)
  }
  const faults = parseFaults(raw["faults"])
  if (E.isLeft(faults)) return faults
  return E.right({
    name: r.name, mac: mac.right, address: r.address as string, tftpServer: r.tftpServer as string,
    diskPath: r.diskPath as string, diskBytes: r.diskBytes as number, stateDir: r.stateDir as string,
    tgtdControlPort: r.tgtdControlPort as number, iscsiPort: r.iscsiPort as number, releasePort: r.releasePort as number,
    releaseTimeoutMs: r.releaseTimeoutMs as number, tftpTimeoutMs: r.tftpTimeoutMs as number,
    callbackTimeoutMs: r.callbackTimeoutMs as number, rebootDelayMs: r.rebootDelayMs as number,
    faults: faults.right,
  })
}

export const loadMachineConfig = (path: string): E.Either<string, MachineConfig> => {
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (e) {
    return E.left(`cannot read ${path}: ${(e as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return E.left(`${path} is not JSON: ${(e as Error).message}`)
  }
  return E.mapLeft((why: string) => `${path}: ${why}`)(parseMachineConfig(json))
}

/** pxelinux's per-MAC file name: "01-" (Ethernet) then the MAC, lowercase, dashes. */
export const pxeConfigName = (mac: string) => `pxelinux.cfg/01-${mac.toLowerCase().replace(/:/g, "-")}`
