// The machine's status file (<stateDir>/status.json) and log (<stateDir>/machine.log): how tests
// and `serve --sim` follow a machine. Replaced atomically, so a reader never sees half a file.
// Neither ever holds the deploy key or the CHAP secret.
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"

export type MachineState =
  | "pxe" | "deploy-ramdisk" | "exported" | "called-back" | "released" | "booted" | "failed" | "off"
  /** Its ramdisk's inventory was taken: the machine waits to be powered off (ADR 0058). */
  | "inspected"

export interface MachineStatus {
  readonly name: string
  readonly state: MachineState
  readonly at: string
  /** Process id of this boot of the machine. */
  readonly pid: number
  readonly reason?: string
  readonly label?: string
  readonly rootUuid?: string | null
  readonly nodeUuid?: string
  readonly portal?: string
  readonly iqn?: string
  /** HTTP status of the pass_deploy_info answer. */
  readonly callbackStatus?: number
  /** States of this boot, oldest first. */
  readonly history: ReadonlyArray<{ readonly state: MachineState; readonly at: string }>
}

export const statusPath = (stateDir: string) => join(stateDir, "status.json")

export const readStatus = (stateDir: string): MachineStatus | null => {
  try {
    return JSON.parse(readFileSync(statusPath(stateDir), "utf8")) as MachineStatus
  } catch {
    return null
  }
}

type Details = Omit<MachineStatus, "name" | "state" | "at" | "pid" | "history">

export interface StatusRecorder {
  readonly record: (state: MachineState, details?: Details) => void
  readonly log: (line: string) => void
  readonly current: () => MachineStatus | null
}

export const statusRecorder = (name: string, stateDir: string): StatusRecorder => {
  mkdirSync(stateDir, { recursive: true })
  let last: MachineStatus | null = null
  const history: Array<{ state: MachineState; at: string }> = []
  const log = (line: string) => {
    const stamped = `${new Date().toISOString()} machine ${name}: ${line}`
    process.stdout.write(`${stamped}\n`)
    appendFileSync(join(stateDir, "machine.log"), `${stamped}\n`)
  }
  const record = (state: MachineState, details: Details = {}) => {
    const at = new Date().toISOString()
    history.push({ state, at })
    last = { name, state, at, pid: process.pid, ...details, history: [...history] }
    const tmp = `${statusPath(stateDir)}.${process.pid}.tmp`
    writeFileSync(tmp, `${JSON.stringify(last, null, 2)}\n`)
    renameSync(tmp, statusPath(stateDir))
    log(`${state}${details.reason === undefined ? "" : `: ${details.reason}`}`)
  }
  return { record, log, current: () => last }
}
