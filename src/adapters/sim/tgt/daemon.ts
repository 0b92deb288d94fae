// Runs a real tgtd iSCSI target on loopback, for the tests and for the machine simulator: one tgtd
// per control port and portal, targets with one LUN backed by a (sparse) file, optional CHAP.
// tgtd ignores SIGTERM while targets exist, so stopping deletes the targets, asks tgtd to shut down
// through tgtadm, and only then falls back to SIGKILL.
import { execFile, spawn, type ChildProcess } from "node:child_process"
import { existsSync, rmSync } from "node:fs"
import { open } from "node:fs/promises"
import { connect } from "node:net"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { BlockTarget } from "../../../ports/block-writer.ts"
import { freeTcpPort } from "../bmc/free-port.ts"
import { controlSocketPath, createChapAccount } from "./account.ts"

export class TgtFailed extends Data.TaggedError("TgtFailed")<{ readonly detail: string }> {
  override get message() { return `tgtd: ${this.detail}` }
}

export interface TgtDaemonOptions {
  /** Portal address; default 127.0.0.1. */
  readonly address?: string
  /** Portal TCP port; default: a free one. */
  readonly portalPort?: number
  /** tgtd control port (its socket is /var/run/tgtd/socket.N); default: an unused one. */
  readonly controlPort?: number
  /** Bound on start-up, until the control socket answers and the portal accepts; default 5000 ms. */
  readonly readyTimeoutMs?: number
}

export interface TgtLunSpec {
  readonly iqn: string
  readonly backingFile: string
  /** When given, the backing file is created sparse with this size (it must not exist yet). */
  readonly sizeBytes?: number
  /** Initiator addresses allowed to log in; default: all. */
  readonly initiators?: ReadonlyArray<string>
  /** When given, logging in requires this CHAP account. */
  readonly chap?: { readonly user: string; readonly secret: Redacted.Redacted<string> }
}

export interface TgtTarget {
  readonly tid: number
  readonly iqn: string
  readonly backingFile: string
  /** How an initiator reaches it (LUN 1), credentials included. */
  readonly blockTarget: BlockTarget
}

const TGTADM_TIMEOUT_MS = 10_000
const running = new Set<ChildProcess>()
let exitHookInstalled = false

/** If the process dies without stopping its daemons, they die with it rather than hold ports. */
const installExitHook = () => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on("exit", () => { for (const child of running) child.kill("SIGKILL") })
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms))

const portalAccepts = (address: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: address, port })
    socket.setTimeout(1000)
    const end = (ok: boolean) => { socket.destroy(); resolve(ok) }
    socket.once("connect", () => end(true))
    socket.once("error", () => end(false))
    socket.once("timeout", () => end(false))
  })

const controlPortAnswers = (controlPort: number) =>
  new Promise<boolean>((resolve) => {
    execFile("tgtadm", ["-C", String(controlPort), "--op", "show", "--mode", "sys"], { timeout: TGTADM_TIMEOUT_MS }, (error) => resolve(!error))
  })

/** tgtd takes control ports up to 32767. */
const unusedControlPort = (): number => {
  for (;;) {
    const port = 1024 + Math.floor(Math.random() * (32768 - 1024))
    if (!existsSync(controlSocketPath(port)) && !existsSync(`${controlSocketPath(port)}.lock`)) return port
  }
}

export class TgtDaemon implements AsyncDisposable {
  readonly address: string
  readonly port: number
  readonly controlPort: number
  readonly pid: number
  readonly #child: ChildProcess
  readonly #targets = new Map<number, string | undefined>()
  #nextTid = 1
  #stopping: Promise<void> | undefined
  /** Set once this tgtd answered on its control socket: only then are the socket files its own. */
  #owned = false

  private constructor(child: ChildProcess, address: string, port: number, controlPort: number) {
    this.#child = child
    this.address = address
    this.port = port
    this.controlPort = controlPort
    this.pid = child.pid!
  }

  /** Starts tgtd and waits (bounded) until it serves; retries on a port taken meanwhile. */
  static async start(options: TgtDaemonOptions = {}): Promise<TgtDaemon> {
    const address = options.address ?? "127.0.0.1"
    let lastError: Error | undefined
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = options.portalPort ?? (await freeTcpPort(address))
      const controlPort = options.controlPort ?? unusedControlPort()
      try {
        return await TgtDaemon.#launch(address, port, controlPort, options.readyTimeoutMs ?? 5000)
      } catch (error) {
        lastError = error as Error
        if (options.portalPort !== undefined && options.controlPort !== undefined) break
      }
    }
    throw lastError
  }

  static async #launch(address: string, port: number, controlPort: number, readyTimeoutMs: number): Promise<TgtDaemon> {
    installExitHook()
    // A second tgtd on a live control port takes its socket over (tgtd's lock does not stop it).
    if (existsSync(controlSocketPath(controlPort)) && (await controlPortAnswers(controlPort))) {
      throw new Error(`tgtd control port ${controlPort} is in use by another tgtd`)
    }
    const child = spawn("tgtd", ["-f", "-C", String(controlPort), "--iscsi", `portal=${address}:${port}`], {
      stdio: ["ignore", "pipe", "pipe"],
    })
    running.add(child)
    let output = ""
    let exited = false
    const collect = (chunk: Buffer) => { if (output.length < 64 * 1024) output += chunk.toString("utf8") }
    child.stdout!.on("data", collect)
    child.stderr!.on("data", collect)
    child.once("exit", () => { exited = true; running.delete(child) })
    child.once("error", (error) => { exited = true; output += `\n${error.message}`; running.delete(child) })
    const daemon = new TgtDaemon(child, address, port, controlPort)
    const deadline = Date.now() + readyTimeoutMs
    for (;;) {
      // tgtd keeps running when it cannot bind its portal: that is a failed start, not a ready one.
      const failure = exited ? "exited during start-up" : /failed to create\/bind to portal|another tgtd is using/.exec(output)?.[0]
      if (failure) {
        // Its socket files are its own unless another tgtd held the control port.
        daemon.#owned = !/another tgtd/.test(output)
        await daemon.stop()
        throw new Error(`tgtd on ${address}:${port} (control ${controlPort}) did not start: ${failure}\n${output.trim()}`)
      }
      // Ready when the tgtd answering on this control port serves this portal (not another tgtd that
      // holds the control port) and the portal accepts connections.
      if (existsSync(controlSocketPath(controlPort))) {
        const portals = await daemon.#tgtadm(["--op", "show", "--mode", "portal"]).catch(() => "")
        if (portals.includes(`Portal: ${address}:${port},`) && !exited && (await portalAccepts(address, port))) {
          daemon.#owned = true
          return daemon
        }
      }
      if (Date.now() > deadline) {
        await daemon.stop()
        throw new Error(`tgtd on ${address}:${port} (control ${controlPort}) was not ready within ${readyTimeoutMs} ms\n${output.trim()}`)
      }
      await delay(25)
    }
  }

  #tgtadm(args: ReadonlyArray<string>): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile("tgtadm", ["-C", String(this.controlPort), "--lld", "iscsi", ...args], { timeout: TGTADM_TIMEOUT_MS }, (error, stdout, stderr) => {
        if (error) reject(new Error(`tgtadm ${args.slice(0, 4).join(" ")}: ${stderr.trim() || error.message}`))
        else resolve(stdout)
      })
    })
  }

  /** A target with one LUN (LUN 1) on `spec.backingFile`. */
  async addTarget(spec: TgtLunSpec): Promise<TgtTarget> {
    if (this.#stopping) throw new Error("tgtd is stopping")
    if (spec.sizeBytes !== undefined) {
      const file = await open(spec.backingFile, "wx", 0o600)
      try { await file.truncate(spec.sizeBytes) } finally { await file.close() }
    }
    const tid = this.#nextTid++
    const id = String(tid)
    await this.#tgtadm(["--op", "new", "--mode", "target", "--tid", id, "-T", spec.iqn])
    this.#targets.set(tid, undefined)
    await this.#tgtadm(["--op", "new", "--mode", "logicalunit", "--tid", id, "--lun", "1", "-b", spec.backingFile])
    for (const initiator of spec.initiators ?? ["ALL"]) {
      await this.#tgtadm(["--op", "bind", "--mode", "target", "--tid", id, "-I", initiator])
    }
    if (spec.chap) {
      await createChapAccount(this.controlPort, spec.chap.user, Redacted.value(spec.chap.secret))
      this.#targets.set(tid, spec.chap.user)
      await this.#tgtadm(["--op", "bind", "--mode", "account", "--tid", id, "--user", spec.chap.user])
    }
    const blockTarget: BlockTarget = { portal: this.address, port: this.port, iqn: spec.iqn, lun: 1, ...(spec.chap ? { chap: spec.chap } : {}) }
    return { tid, iqn: spec.iqn, backingFile: spec.backingFile, blockTarget }
  }

  async removeTarget(tid: number): Promise<void> {
    if (!this.#targets.has(tid)) return
    const account = this.#targets.get(tid)
    this.#targets.delete(tid)
    await this.#tgtadm(["--op", "delete", "--mode", "target", "--tid", String(tid), "--force"])
    if (account) await this.#tgtadm(["--op", "delete", "--mode", "account", "--user", account])
  }

  /** Deletes every target and stops tgtd (SIGKILL if it lingers), removing its control socket. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  async #stop(): Promise<void> {
    const child = this.#child
    const gone = () => child.exitCode !== null || child.signalCode !== null || !running.has(child)
    const waitGone = async (ms: number) => {
      const until = Date.now() + ms
      while (!gone() && Date.now() < until) await delay(20)
      return gone()
    }
    // Never through the control socket unless it is this tgtd's: it could be another's.
    if (!gone() && this.#owned) {
      for (const tid of [...this.#targets.keys()]) {
        await this.#tgtadm(["--op", "delete", "--mode", "target", "--tid", String(tid), "--force"]).catch(() => undefined)
      }
      await this.#tgtadm(["--op", "delete", "--mode", "system"]).catch(() => undefined)
      await waitGone(3000)
    }
    this.#targets.clear()
    if (!gone()) {
      child.kill("SIGKILL")
      await waitGone(3000)
    }
    running.delete(child)
    if (this.#owned) {
      rmSync(controlSocketPath(this.controlPort), { force: true })
      rmSync(`${controlSocketPath(this.controlPort)}.lock`, { force: true })
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop()
  }
}

/** tgtd as a scoped resource: stopped when the scope closes. */
export const tgtDaemon = (options: TgtDaemonOptions = {}): Effect.Effect<TgtDaemon, TgtFailed, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => TgtDaemon.start(options), catch: (error) => new TgtFailed({ detail: (error as Error).message }) }),
    (daemon) => Effect.promise(() => daemon.stop()),
  )
