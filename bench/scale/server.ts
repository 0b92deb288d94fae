// `ironledger serve` in its own process, pinned to one core (the load client takes the other),
// on a SQLite file, with fake-hardware nodes. Its start-up is timed to the first answered request.
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Client } from "./http.ts"

export interface ServerOptions {
  readonly db: string
  readonly core: number
  /** Seconds between power syncs (Ironic's sync_power_state_interval). */
  readonly powerSyncSeconds: number
  /** Write a V8 CPU profile of the server into this directory when it stops. */
  readonly cpuProfDir?: string
  /** Let SIGUSR2 write a heap snapshot into the server's working directory. */
  readonly heapSnapshots?: boolean
  readonly cwd: string
}

export interface Server {
  readonly pid: number
  readonly url: URL
  /** Milliseconds from spawn to the first request answered from the projections. */
  readonly startupMs: number
  readonly stop: () => Promise<void>
  readonly process: ChildProcess
  /** The last lines the server wrote on standard error (its warnings and errors). */
  readonly tail: () => string
}

export const startServer = async (o: ServerOptions): Promise<Server> => {
  const t0 = performance.now()
  const nodeOptions = [
    ...(o.cpuProfDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${o.cpuProfDir}`]),
    ...(o.heapSnapshots === true ? ["--heapsnapshot-signal=SIGUSR2"] : []),
  ].join(" ")
  const child = spawn("taskset", ["-c", String(o.core), resolve(import.meta.dirname, "../../bin/ironledger"), "serve",
    "--db", o.db, "--port", "0", "--power-sync-interval", String(o.powerSyncSeconds)], {
    stdio: ["ignore", "ignore", "pipe"], cwd: o.cwd,
    env: { ...process.env, ...(nodeOptions === "" ? {} : { NODE_OPTIONS: [process.env["NODE_OPTIONS"] ?? "", nodeOptions].join(" ").trim() }) },
  })
  const stop = () => new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done()
    child.once("exit", () => done())
    child.kill("SIGTERM")
    setTimeout(() => child.kill("SIGKILL"), 60_000).unref()
  })
  let seen = ""
  const url = await new Promise<URL>((found, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve did not listen within 300 s: ${seen.slice(-2000)}`)), 300_000)
    child.stderr!.on("data", (d: Buffer) => {
      seen = (seen + d.toString()).slice(-20_000)
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(seen)
      if (m) { clearTimeout(timer); found(new URL(m[1]!)) }
    })
    child.once("exit", (code) => { clearTimeout(timer); fail(new Error(`serve exited (${code}): ${seen.slice(-2000)}`)) })
  }).catch(async (e) => { await stop(); throw e })
  // The API listens before the projections are loaded; requests wait for them.
  const probe = new Client(url, 1)
  try {
    for (;;) {
      const r = await probe.send("GET", "/v1/nodes?limit=1", undefined, 600_000)
      if (r.status === 200) break
      if (performance.now() - t0 > 600_000) throw new Error(`serve not ready: ${r.status} ${r.body.slice(0, 200)}`)
      await new Promise((w) => setTimeout(w, 50))
    }
  } catch (e) {
    await stop()
    throw e
  } finally {
    probe.close()
  }
  child.stderr!.removeAllListeners("data")
  child.stderr!.on("data", (d: Buffer) => { seen = (seen + d.toString()).slice(-20_000) })
  child.once("exit", (code, signal) => { seen += `\n(serve exited: ${code ?? signal})` })
  return { pid: child.pid!, url, startupMs: performance.now() - t0, stop, process: child, tail: () => seen.slice(-3000) }
}

/**
 * Starts the service once on an empty store and stops it, so that the measured start finds Node's
 * compile cache warm (ADR 0155), as every start of a deployment but its first does. A cold start
 * loads the TypeScript stripper, which stays for the life of the process: the first run after a
 * change measured 124 MiB RSS at start (anon 65) where the next measured 108 (anon 54).
 */
export const warmCompileCache = async (): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), "ironledger-warm-"))
  try {
    const server = await startServer({ db: join(dir, "log.db"), core: 0, powerSyncSeconds: 60, cwd: dir })
    await server.stop()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
