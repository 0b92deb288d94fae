// The service's own dnsmasq: TFTP for the boot tree, DHCP answers for the MACs that boot from it.
// A scoped resource: started with its config written by us, stopped when the scope closes, started
// again when it dies, its log rotated past a size. The
// DHCP hosts file is rewritten and re-read (SIGHUP) whenever MAC links change; dnsmasq's log
// confirms each re-read. Argv carries only the config file path.
import { spawn, type ChildProcess } from "node:child_process"
import { chmod, chown, mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises"
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
  /** The log is rotated (to <log>.1, dnsmasq reopening it on SIGUSR2) past this size; default 16 MiB. */
  readonly maxLogBytes?: number
  /** How often the log's size is checked; default 60 s. */
  readonly logCheckMs?: number
  /** Told when dnsmasq died and was started again (or could not be). */
  readonly onRestart?: (what: string) => void
}

export class DnsmasqFailed extends Data.TaggedError("DnsmasqFailed")<{ readonly reason: string }> {
  override get message() { return `dnsmasq: ${this.reason}` }
}

export interface Dnsmasq {
  readonly pid: number
  readonly files: DnsmasqFiles
  /** Makes these MACs (and only these) known to DHCP; resolves once dnsmasq has re-read them. */
  readonly setBootMacs: (macs: ReadonlyArray<Mac>) => Effect.Effect<void, DnsmasqFailed>
  /** Rotates the log now if it is past its size; true when it did (also done every logCheckMs). */
  readonly rotateLog: Effect.Effect<boolean>
}

const RELOAD_TIMEOUT_MS = 3000
const RESTART_PAUSE_MS = 1000
const DEFAULT_MAX_LOG_BYTES = 16 * 1024 * 1024
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

/** The effective uid and gid of a running process, from /proc. */
const processOwner = async (pid: number): Promise<{ uid: number; gid: number } | null> => {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "")
  const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1]
  const gid = /^Gid:\s+\d+\s+(\d+)/m.exec(status)?.[1]
  return uid === undefined || gid === undefined ? null : { uid: Number(uid), gid: Number(gid) }
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

/** Restarts a dnsmasq that died (after a short pause, from the tree as it stands) and rotates its log. */
export const startDnsmasq = (settings: DnsmasqSettings): Effect.Effect<Dnsmasq, DnsmasqFailed, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const first = await launch(settings)
          const state = {
            current: first, stopping: false, timer: null as NodeJS.Timeout | null, restarts: 0,
            /** The MACs last given to setBootMacs (null: none yet, the tree's links decide). */
            macs: null as ReadonlyArray<Mac> | null,
            reload: null as ((macs: ReadonlyArray<Mac>) => Promise<void>) | null,
          }
          const supervise = (running: typeof first) => {
            void running.exited.then(async () => {
              while (!state.stopping) {
                await sleep(RESTART_PAUSE_MS)
                if (state.stopping) return
                // The dead one's log is kept beside the new one's.
                await rename(running.files.log, `${running.files.log}.1`).catch(() => {})
                try {
                  state.current = await launch(settings)
                  state.restarts++
                  if (state.macs !== null) await state.reload?.(state.macs)
                  settings.onRestart?.(`dnsmasq exited; started again (pid ${state.current.child.pid})`)
                  supervise(state.current)
                  return
                } catch (e) {
                  settings.onRestart?.(`dnsmasq exited and could not be started again: ${e instanceof Error ? e.message : String(e)}`)
                }
              }
            })
          }
          supervise(first)
          return state
        },
        catch: (e) => e instanceof DnsmasqFailed ? e : failed(e instanceof Error ? e.message : String(e)),
      }),
      (state) => Effect.promise(async () => {
        state.stopping = true
        if (state.timer !== null) clearInterval(state.timer)
        await stop(state.current.child, state.current.exited, state.current.files.pid)
      }),
    ),
    (state): Dnsmasq => {
      const { files, readLine } = state.current
      const logLock = Semaphore.makeUnsafe(1)
      const reload = async (macs: ReadonlyArray<Mac>) => {
        const { child } = state.current
        if (!state.current.isRunning()) throw failed("is not running")
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
        state.macs = macs
      }
      state.reload = reload
      // Rotation: rename, then SIGUSR2 makes dnsmasq reopen its log-facility file under the old name.
      const rotate = async () => {
        const size = await stat(files.log).then((s) => s.size, () => 0)
        if (size <= (settings.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES) || !state.current.isRunning()) return false
        // dnsmasq reopens it as the user it dropped to: the new file is made first, and given to that user.
        const owner = await processOwner(state.current.child.pid!)
        await rename(files.log, `${files.log}.1`)
        await writeFile(files.log, "", { mode: 0o644 })
        if (owner !== null) await chown(files.log, owner.uid, owner.gid)
        state.current.child.kill("SIGUSR2")
        return true
      }
      const rotateLocked = () => Effect.runPromise(logLock.withPermit(Effect.promise(rotate)))
      state.timer = setInterval(() => { void rotateLocked().catch(() => {}) }, settings.logCheckMs ?? 60_000)
      state.timer.unref()
      return {
        get pid() { return state.current.child.pid! },
        files,
        setBootMacs: (macs) => logLock.withPermit(Effect.tryPromise({
          try: () => reload(macs),
          catch: (e) => e instanceof DnsmasqFailed ? e : failed(e instanceof Error ? e.message : String(e)),
        })),
        rotateLog: logLock.withPermit(Effect.promise(rotate)),
      }
    },
  )
