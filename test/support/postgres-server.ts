// A throwaway PostgreSQL server for tests: initdb into a temporary directory, postgres on a free
// port of 127.0.0.1, stopped and removed afterwards. Run as the `postgres` user when the tests run
// as root (initdb and postgres refuse root). The server gets --pdeathsig KILL through setpriv, so
// even a test process killed outright takes its server with it.
import { execFileSync, spawn, type ChildProcess } from "node:child_process"
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freeTcpPort } from "../../src/adapters/sim/bmc/free-port.ts"

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust authentication, loopback only). */
  readonly url: string
  readonly port: number
  /** The postmaster's process id while it runs (setpriv execs it). */
  readonly pid: () => number | undefined
  /** With `tls`: the server's self-signed certificate (for 127.0.0.1), to trust as a root. */
  readonly caFile: string | undefined
  /**
   * Shuts the server down and waits until it has exited: "fast" (SIGINT) rolls back open
   * transactions and disconnects; "immediate" (SIGQUIT) is a crash, recovered from the WAL on start.
   */
  readonly stop: (mode?: "fast" | "immediate") => Promise<void>
  /** Starts the stopped server again, on the same port and data. */
  readonly start: () => Promise<void>
  /** Stops the server and removes its directory; safe to call twice. */
  readonly destroy: () => Promise<void>
}

/** The newest PostgreSQL binaries Debian installed (or $PG_BIN). */
export const postgresBinDir = (): string | undefined => {
  if (process.env["PG_BIN"]) return process.env["PG_BIN"]
  const root = "/usr/lib/postgresql"
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a))
  return versions.length === 0 ? undefined : join(root, versions[0]!, "bin")
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export const postgresUnavailable = (): string | undefined =>
  postgresBinDir() === undefined ? "PostgreSQL is not installed (scripts/ensure-deps.sh installs Debian's postgresql)" : undefined

const asRoot = process.getuid?.() === 0

/** argv that runs `argv` as the postgres user when we are root, dying with its parent. */
const asPostgres = (argv: ReadonlyArray<string>): [string, Array<string>] =>
  asRoot
    ? ["setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--pdeathsig=KILL", "--", ...argv]]
    : ["setpriv", ["--pdeathsig=KILL", "--", ...argv]]

const waitReady = async (bin: string, port: number, child: ChildProcess, stderr: () => string, host = "127.0.0.1", prefix: ReadonlyArray<string> = []) => {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`postgres exited while starting: ${stderr()}`)
    try {
      const [cmd, ...args] = [...prefix, join(bin, "pg_isready"), "-q", "-h", host, "-p", String(port)]
      execFileSync(cmd!, args, { stdio: "ignore" })
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  throw new Error(`postgres did not accept connections within 20 s: ${stderr()}`)
}

const live = new Set<PostgresServer>()
// A test process leaving on an uncaught error or a signal (a runner's time-out) still stops its
// servers and removes their directories, synchronously: SIGKILL, then rm.
const killers = new Set<() => void>()
const killAll = () => { for (const kill of killers) kill() }
process.once("exit", killAll)
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAll()
    process.kill(process.pid, signal) // the handler is gone: the signal now ends the process as usual
  })
}

/** A self-signed certificate for 127.0.0.1 and its key, owned by the server's user. */
const makeCertificate = (dir: string, owner: { uid: number; gid: number } | undefined) => {
  const cert = join(dir, "server.crt")
  const key = join(dir, "server.key")
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert,
  ], { stdio: ["ignore", "ignore", "pipe"] })
  chmodSync(key, 0o600)
  if (owner !== undefined) for (const file of [cert, key]) chownSync(file, owner.uid, owner.gid)
  return { cert, key }
}

export interface PostgresOptions {
  /** Server settings (-c name=value) over the test defaults. */
  readonly settings?: Readonly<Record<string, string>>
  /** Serve TLS too (ssl = on) with a fresh self-signed certificate; plain connections still work. */
  readonly tls?: boolean
  /**
   * Run inside this network namespace, listening on `address` (port 5432) and trusting clients of
   * `clients` (a CIDR): a database host of its own for multi-host tests.
   */
  readonly namespace?: { readonly name: string; readonly address: string; readonly clients: string }
}

export const startPostgres = async (startOptions: PostgresOptions = {}): Promise<PostgresServer> => {
  const settings = startOptions.settings ?? {}
  const bin = postgresBinDir()
  if (bin === undefined) throw new Error(postgresUnavailable())
  const dir = mkdtempSync(join(tmpdir(), "ironledger-pg-"))
  const data = join(dir, "data")
  const owner = asRoot
    ? { uid: Number(execFileSync("id", ["-u", "postgres"]).toString().trim()), gid: Number(execFileSync("id", ["-g", "postgres"]).toString().trim()) }
    : undefined
  if (owner !== undefined) chownSync(dir, owner.uid, owner.gid)
  chmodSync(dir, 0o700)
  const tls = startOptions.tls === true ? makeCertificate(dir, owner) : undefined
  const [cmd, args] = asPostgres([join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"])
  execFileSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"] })
  const ns = startOptions.namespace
  // A namespace of its own has every port free; on the machine's own loopback, find one.
  const port = ns === undefined ? await freeTcpPort() : 5432
  const host = ns?.address ?? "127.0.0.1"
  const prefix = ns === undefined ? [] : ["ip", "netns", "exec", ns.name]
  if (ns !== undefined) appendFileSync(join(data, "pg_hba.conf"), `host all all ${ns.clients} trust\n`)
  const options = {
    // Tests need no durability against power loss; fsync off keeps them fast on a shared disk.
    fsync: "off", synchronous_commit: "off", full_page_writes: "off",
    shared_buffers: "32MB", max_connections: "60", unix_socket_directories: dir,
    ...(tls === undefined ? {} : { ssl: "on", ssl_cert_file: tls.cert, ssl_key_file: tls.key }),
    ...settings,
  }
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let stderr = ""
  const kill = () => { if (child !== undefined && child.exitCode === null) child.kill("SIGKILL") }
  const killAndRemove = () => {
    kill()
    rmSync(dir, { recursive: true, force: true })
  }
  killers.add(killAndRemove)

  const start = async () => {
    const flags = Object.entries(options).flatMap(([k, v]) => ["-c", `${k}=${v}`])
    const [c, a] = asPostgres([join(bin, "postgres"), "-D", data, "-p", String(port), "-h", host, ...flags])
    stderr = ""
    // ip netns exec execs the program: the child is still the postmaster.
    const [file, ...argv] = [...prefix, c, ...a]
    const started = spawn(file!, argv, { stdio: ["ignore", "ignore", "pipe"] })
    child = started
    started.stderr!.on("data", (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000) })
    exited = new Promise((resolve) => started.once("close", () => resolve()))
    await waitReady(bin, port, started, () => stderr, host, prefix)
  }

  const stop = async (mode: "fast" | "immediate" = "fast") => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    child.kill(mode === "fast" ? "SIGINT" : "SIGQUIT")
    const timer = setTimeout(kill, 15_000)
    await exited
    clearTimeout(timer)
  }

  await start()
  const server: PostgresServer = {
    url: `postgres://postgres@${host}:${port}/postgres`,
    port,
    caFile: tls?.cert,
    pid: () => child?.pid,
    stop,
    start,
    destroy: async () => {
      await stop("immediate")
      killers.delete(killAndRemove)
      live.delete(server)
      rmSync(dir, { recursive: true, force: true })
    },
  }
  live.add(server)
  return server
}
