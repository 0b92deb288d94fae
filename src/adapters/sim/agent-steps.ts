// The simulated ramdisks' in-band cleaning steps, on the machine's disk file, and their loop: ask
// the service for the next step with the cleaning's key, run it, report, until the service says
// the node is not cleaning (a deploy's ramdisk stops at the first answer). The real agent's loop is
// agent.sh's `run_clean_steps`; both follow ADR 0057.
import { WIPE_BYTES } from "../iscsi/write-image.ts"
import { closeSync, fstatSync, ftruncateSync, openSync, writeSync } from "node:fs"
import { simBurnin } from "./agent-burnin.ts"

export type AgentAnswer =
  | { readonly kind: "step"; readonly step: string; readonly name: string; readonly args: Readonly<Record<string, unknown>> }
  | { readonly kind: "wait" }
  /** Not cleaning, or not with this key: nothing more to do. */
  | { readonly kind: "none" }

export interface AgentReport {
  readonly step: string
  readonly error: string | null
  readonly summary: string
  readonly details?: Readonly<Record<string, unknown>>
}

export interface AgentTransport {
  readonly ask: () => Promise<AgentAnswer>
  readonly report: (r: AgentReport) => Promise<void>
}

const MiB = 1024 * 1024
/** Above this a simulated disk (a sparse file) is erased by releasing its blocks, which reads back as zeros. */
const WRITE_LIMIT = 256 * MiB

const zeroRange = (fd: number, from: number, length: number) => {
  const buf = Buffer.alloc(Math.min(4 * MiB, Math.max(1, length)))
  for (let at = from; at < from + length;) {
    const n = Math.min(buf.length, from + length - at)
    writeSync(fd, buf, 0, n, at)
    at += n
  }
}

/** Runs one in-band step on a simulated disk; throws with the step's message when it fails. */
export const runSimStep = (diskPath: string | null, name: string, args: Readonly<Record<string, unknown>> = {}): { summary: string; details: Record<string, unknown> } => {
  if (diskPath === null) return { summary: `${name}: no local disk`, details: { disks: 0 } }
  const fd = openSync(diskPath, "r+")
  try {
    const size = fstatSync(fd).size
    const reported = simBurnin(name, args, size)
    if (reported !== null) return reported
    switch (name) {
      case "deploy.erase_devices_metadata": {
        // The MBR and GPT at the start, the backup GPT at the end: the real agent zeroes the same.
        const n = Math.min(WIPE_BYTES, size)
        zeroRange(fd, 0, n)
        zeroRange(fd, Math.max(0, size - n), n)
        return { summary: `zeroed the first and last ${n} bytes of 1 disk (${size} bytes)`, details: { disks: 1, bytes: size } }
      }
      case "deploy.erase_devices": {
        if (size <= WRITE_LIMIT) zeroRange(fd, 0, size)
        else { ftruncateSync(fd, 0); ftruncateSync(fd, size) }
        return { summary: `overwrote ${size} bytes of 1 disk with zeros`, details: { disks: 1, bytes: size } }
      }
      default: throw new Error(`this ramdisk does not know the step ${name}`)
    }
  } finally {
    closeSync(fd)
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Asks for steps and runs them until the service has none for this ramdisk; never throws. */
export const runAgentLoop = async (transport: AgentTransport, diskPath: string | null, opts: { readonly pollMs: number; readonly stopped: () => boolean }) => {
  for (let failures = 0; !opts.stopped() && failures < 30;) {
    let answer: AgentAnswer
    try { answer = await transport.ask(); failures = 0 } catch { failures++; await sleep(opts.pollMs); continue }
    if (answer.kind === "none") return
    if (answer.kind === "wait") { await sleep(opts.pollMs); continue }
    let report: AgentReport
    try {
      report = { step: answer.step, error: null, ...runSimStep(diskPath, answer.name, answer.args) }
    } catch (e) {
      report = { step: answer.step, error: (e as Error).message, summary: "failed" }
    }
    await transport.report(report).catch(() => undefined)
  }
}

/** The step calls over HTTP, as the real agent makes them. */
export const httpAgentTransport = (apiUrl: string, nodeUuid: string, key: string): AgentTransport => {
  const url = (method: string) => `${apiUrl.replace(/\/+$/, "")}/v1/nodes/${encodeURIComponent(nodeUuid)}/vendor_passthru/${method}`
  const post = (method: string, body: unknown) => fetch(url(method), {
    method: "POST",
    headers: { "content-type": "application/json", "x-openstack-ironic-api-version": "1.78" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  })
  return {
    ask: async () => {
      const r = await post("clean_step", { key })
      if (r.status === 404) return { kind: "none" }
      if (r.status !== 200) throw new Error(`clean_step answered ${r.status}`)
      const body = await r.json() as { wait?: boolean; step?: string; name?: string; args?: Record<string, unknown> }
      return body.wait === true ? { kind: "wait" } : { kind: "step", step: body.step!, name: body.name!, args: body.args ?? {} }
    },
    report: async (rep) => { await (await post("clean_step_result", { key, ...rep })).text() },
  }
}
