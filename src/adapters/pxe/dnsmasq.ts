// The service's own dnsmasq: TFTP for the boot tree, DHCP answers for the MACs that boot from it.
// A scoped resource: started with its config written by us, stopped when the scope closes. The
// DHCP hosts file is rewritten and re-read (SIGHUP) whenever MAC links change; dnsmasq's log
// confirms each re-read. Argv carries only the config file path.
import { spawn, type ChildProcess } from "node:child_process"
import { chmod, mkdir, open, readFile, rm, stat, writeFile } from "node:fs/promises"
import { basename, join } from "node:path"
import * as E from "fp-ts/lib/Either.js"
import { Data, Effect, Semaphore, type Scope } from "effect"
import type { Mac } from "../../domain/values.ts"
import {
  renderDnsmasqConf, renderHostsFile, type DhcpHostsPolicy, type DnsmasqFiles, type DnsmasqMode,
} from "./dnsmasq-config.ts"
import { installCopy, makeFsTree, writeFileAtomic } from "./fs-tree.ts"

export interface DnsmasqSettings {
  readonly tftpRoot: string
  /** Config, hosts file, leases and log go here (never inside the TFTP root). */
  readonly stateDir: string
  readonly mode: DnsmasqMode
  /** Default <stateDir>/dnsmasq.pid. A fixed path lets the next start stop a dnsmasq a crash left behind. */
  readonly pidFile?: string
  readonly program?: string
  /** The user dnsmasq drops to after binding; default its own ("nobody" on Debian). */
  readonly user?: string
  readonly hosts?: DhcpHostsPolicy
  /** Copied into the TFTP root at start, e.g. /usr/lib/PXELINUX/pxelinux.0 and ldlinux.c32. */
  readonly bootloaderFiles?: ReadonlyArray<string>
  readonly startTimeoutMs?: number
}

export class DnsmasqFailed extends Data.TaggedError("DnsmasqFailed")<{ readonly reason: string }> {
  override get message() { return `dnsmasq: ${this.reason}` }
}

export interface Dnsmasq {
  readonly pid: number
  readonly files: DnsmasqFiles
  /** Makes these MACs (and only these) known to DHCP; resolves once dnsmasq has re-read them. */
  readonly setBootMacs: (macs: ReadonlyArray<Mac>) => Effect.Effect<void, DnsmasqFailed>
}

const RELOAD_TIMEOUT_MS = 3000
const STOP_TIMEOUT_MS = 3000
const MAX_STDERR = 16 * 1024

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const failed = (reason: string) => new DnsmasqFailed({ reason })

/** Polls `check` until it returns non-null or `ms` pass. */
const waitFor = async <A>(ms: number, check: () => Promise<A | null>): Promise<A | null> => {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== null || Date.now() >= deadline) return value
    await sleep(20)
  }
}

const isAlive = async (pid: number): Promise<boolean> => {
  try {
    // A zombie still answers kill(0) but is gone for our purpose.
    const stat = await readFile(`/proc/${pid}/stat`, "utf8")
    return !/^\d+ \(.*\) Z/.test(stat)
  } catch {
    return false
  }
}

/** Stops the dnsmasq named by a pid file left behind, only if that pid still is a dnsmasq. */
const stopLeftover = async (pidFile: string) => {
  const pid = Number.parseInt(await readFile(pidFile, "utf8").catch(() => ""), 10)
  if (!Number.isInteger(pid) || pid <= 1) return
  const comm = await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")
  if (comm.trim() !== "dnsmasq") return
  process.kill(pid, "SIGTERM")
  if (await waitFor(STOP_TIMEOUT_MS, async () => (await isAlive(pid)) ? null : true) === null) {
    process.kill(pid, "SIGKILL")
    await waitFor(STOP_TIMEOUT_MS, async () => (await isAlive(pid)) ? null : true)
  }
  await rm(pidFile, { force: true })
}

/** /proc/net/udp's spelling of an IPv4 address and port: little-endian hex, then big-endian port. */
const procUdpKey = (address: string, port: number) =>
  address.split(".").map((o) => Number(o).toString(16).padStart(2, "0")).reverse().join("").toUpperCase() +
  ":" + port.toString(16).padStart(4, "0").toUpperCase()

/**
 * Who else holds the loopback ports. dnsmasq binds with SO_REUSEADDR, so a second server on the
 * same address starts fine and then steals requests: refuse to start beside one instead.
 */
const takenPorts = async (mode: DnsmasqMode): Promise<ReadonlyArray<string>> => {
  if (mode.kind !== "loopback") return []
  const table = await readFile("/proc/net/udp", "utf8").catch(() => "")
  const bound = new Set(table.split("\n").slice(1).map((l) => l.trim().split(/\s+/)[1]).filter((a) => a !== undefined))
  const wanted: Array<readonly [string, number]> = [[mode.listenAddress, 69], ["0.0.0.0", mode.dhcpPort], [mode.listenAddress, mode.dhcpPort]]
  const tftpWildcard = bound.has(procUdpKey("0.0.0.0", 69)) ? ["0.0.0.0:69"] : []
  return [...wanted.filter(([a, p]) => bound.has(procUdpKey(a, p))).map(([a, p]) => `${a}:${p}`), ...tftpWildcard]
}

/** The log from byte `offset` on, as text. */
const readLogFrom = async (path: string, offset: number): Promise<string> => {
  const file = await open(path, "r")
  try {
    const { size } = await file.stat()
    const buffer = Buffer.alloc(Math.max(0, size - offset))
    await file.read(buffer, 0, buffer.length, offset)
    return buffer.toString("utf8")
  } finally {
    await file.close()
  }
}

const launch = async (settings: DnsmasqSettings) => {
  const files: DnsmasqFiles = {
    tftpRoot: settings.tftpRoot,
    conf: join(settings.stateDir, "dnsmasq.conf"),
    hosts: join(settings.stateDir, "dhcp-hosts"),
    leases: join(settings.stateDir, "dnsmasq.leases"),
    pid: settings.pidFile ?? join(settings.stateDir, "dnsmasq.pid"),
    log: join(settings.stateDir, "dnsmasq.log"),
  }
  const conf = renderDnsmasqConf(settings.mode, files, settings.user)
  if (E.isLeft(conf)) throw failed(conf.left)
  // The tree as it stands after a restart decides the first host list.
  const tree = await makeFsTree(settings.tftpRoot)
  const hosts = renderHostsFile((await tree.links()).map((l) => l.mac), settings.hosts)
  if (E.isLeft(hosts)) throw failed(hosts.left)

  // dnsmasq re-reads the hosts file after dropping root: the directory must be readable to it.
  await mkdir(settings.stateDir, { recursive: true, mode: 0o755 })
  await chmod(settings.stateDir, 0o755)
  await stopLeftover(files.pid)
  const taken = await takenPorts(settings.mode)
  if (taken.length > 0) throw failed(`UDP ${taken.join(", ")} already in use by another program`)
  for (const source of settings.bootloaderFiles ?? []) await installCopy(settings.tftpRoot, basename(source), source)
  await writeFileAtomic(settings.stateDir, basename(files.conf), conf.right)
  await writeFileAtomic(settings.stateDir, basename(files.hosts), hosts.right)
  await writeFile(files.log, "")
  await rm(files.pid, { force: true })

  const child = spawn(settings.program ?? "dnsmasq", [`--conf-file=${files.conf}`, "--keep-in-foreground"], {
    stdio: ["ignore", "ignore", "pipe"],
  })
  let stderr = ""
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => { if (stderr.length < MAX_STDERR) stderr += chunk })
  let exit: string | null = null
  const exited = new Promise<void>((resolve) => {
    child.on("error", (e) => { exit = `cannot run: ${e.message}`; resolve() })
    child.on("exit", (code, signal) => { exit = `exited (${signal ?? `code ${code}`})`; resolve() })
  })

  // Ready once TFTP is up and the hosts file was read: later re-reads are then told apart.
  const readLine = `read ${files.hosts}`
  const ready = await waitFor(settings.startTimeoutMs ?? 5000, async () => {
    if (exit !== null) return false
    const log = await readFile(files.log, "utf8").catch(() => "")
    return log.includes("TFTP root is") && log.split("\n").some((l) => l.endsWith(readLine)) ? true : null
  })
  if (ready !== true) {
    const log = await readFile(files.log, "utf8").catch(() => "")
    if (exit === null) { child.kill("SIGKILL"); await exited }
    throw failed(`did not start (${exit ?? "no ready line in its log"}): ${(stderr + log).trim().split("\n").slice(-5).join(" | ")}`)
  }
  return { child, exited, files, isRunning: () => exit === null, readLine }
}

const stop = async (child: ChildProcess, exited: Promise<void>, pidFile: string) => {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM")
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS)
    await exited
    clearTimeout(timer)
  }
  await rm(pidFile, { force: true })
}

export const startDnsmasq = (settings: DnsmasqSettings): Effect.Effect<Dnsmasq, DnsmasqFailed, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.tryPromise({
        try: () => launch(settings),
        catch: (e) => e instanceof DnsmasqFailed ? e : failed(e instanceof Error ? e.message : String(e)),
      }),
      (running) => Effect.promise(() => stop(running.child, running.exited, running.files.pid)),
    ),
    (running): Dnsmasq => {
      const { child, files, readLine } = running
      const reloads = Semaphore.makeUnsafe(1)
      const reload = async (macs: ReadonlyArray<Mac>) => {
        if (!running.isRunning()) throw failed("is not running")
        const hosts = renderHostsFile(macs, settings.hosts)
        if (E.isLeft(hosts)) throw failed(hosts.left)
        const offset = (await stat(files.log)).size
        await writeFileAtomic(settings.stateDir, basename(files.hosts), hosts.right)
        child.kill("SIGHUP")
        const fresh = await waitFor(RELOAD_TIMEOUT_MS, async () => {
          const text = await readLogFrom(files.log, offset)
          return text.split("\n").some((l) => l.endsWith(readLine)) ? text : null
        })
        if (fresh === null) throw failed(`no "${readLine}" in its log within ${RELOAD_TIMEOUT_MS} ms of SIGHUP`)
        // dnsmasq logs a bad line ("bad hex constant at line 2 of FILE") before "read FILE".
        const complaint = fresh.split("\n").find((l) => l.includes(` of ${files.hosts}`))
        if (complaint !== undefined) throw failed(`rejected the hosts file: ${complaint}`)
      }
      return {
        pid: child.pid!,
        files,
        setBootMacs: (macs) => reloads.withPermit(Effect.tryPromise({
          try: () => reload(macs),
          catch: (e) => e instanceof DnsmasqFailed ? e : failed(e instanceof Error ? e.message : String(e)),
        })),
      }
    },
  )
