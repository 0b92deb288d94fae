// The service's own dnsmasq: TFTP for the boot tree, DHCP answers for the MACs that boot from it.
// A scoped resource: started with its config written by us, stopped when the scope closes, started
// again when it dies, its log rotated past a size. A MAC that starts to boot is added as a file of
// its own in the hosts directory, which dnsmasq reads alone (inotify); a MAC that stops booting
// needs the hosts file rewritten and re-read (SIGHUP), which also empties the directory (ADR 0120).
// dnsmasq's log confirms each read. Argv carries only the config file path.
import { spawn, type ChildProcess } from "node:child_process"
import { chmod, chown, mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises"
import { basename, join } from "node:path"
import * as E from "fp-ts/lib/Either.js"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Semaphore from "effect/Semaphore"
import type * as Scope from "effect/Scope"
import type { Mac } from "../../domain/values.ts"
import {
  renderDnsmasqConf, renderHostLine, renderHostsFile, type DhcpHostsPolicy, type DnsmasqFiles, type DnsmasqMode,
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
  /**
   * Makes these MACs (and only these) known to DHCP; resolves once dnsmasq has re-read them. A
   * full reload: for a whole list (a few nodes), not for one node of a fleet.
   */
  readonly setBootMacs: (macs: ReadonlyArray<Mac>) => Effect.Effect<void, DnsmasqFailed>
  /**
   * Adds and removes MACs; resolves once dnsmasq has read them. Adding costs one small file that
   * dnsmasq reads alone; removing one needs a full reload, shared by all removals told together.
   */
  readonly changeBootMacs: (change: BootMacsChange) => Effect.Effect<void, DnsmasqFailed>
  /** Rotates the log now if it is past its size; true when it did (also done every logCheckMs). */
  readonly rotateLog: Effect.Effect<boolean>
}

export interface BootMacsChange {
  readonly add: ReadonlyArray<Mac>
  readonly remove: ReadonlyArray<Mac>
}

const RELOAD_TIMEOUT_MS = 3000
const RESTART_PAUSE_MS = 1000
const DEFAULT_MAX_LOG_BYTES = 16 * 1024 * 1024
const STOP_TIMEOUT_MS = 3000
const MAX_STDERR = 16 * 1024

/** A MAC's file in the hosts directory: its address with dashes (no dot: dnsmasq skips dotfiles, our temporaries). */
const hostFileName = (mac: Mac) => mac.replace(/:/g, "-")

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

/** `macs`: the host list to start with; null: the MACs the TFTP tree links (a walk, once). */
const launch = async (settings: DnsmasqSettings, macs: ReadonlyArray<Mac> | null) => {
  const files: DnsmasqFiles & { readonly hostsDir: string } = {
    tftpRoot: settings.tftpRoot,
    conf: join(settings.stateDir, "dnsmasq.conf"),
    hosts: join(settings.stateDir, "dhcp-hosts"),
    hostsDir: join(settings.stateDir, "dhcp-hosts.d"),
    leases: join(settings.stateDir, "dnsmasq.leases"),
    pid: settings.pidFile ?? join(settings.stateDir, "dnsmasq.pid"),
    log: join(settings.stateDir, "dnsmasq.log"),
  }
  const conf = renderDnsmasqConf(settings.mode, files, settings.user)
  if (E.isLeft(conf)) throw failed(conf.left)
  // The tree as it stands decides the first host list, or the list last told.
  const first = macs ?? (await (await makeFsTree(settings.tftpRoot)).links()).map((l) => l.mac)
  const hosts = renderHostsFile(first, settings.hosts)
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
  // Every MAC is in the hosts file now: the directory starts empty.
  await rm(files.hostsDir, { recursive: true, force: true })
  await mkdir(files.hostsDir, { mode: 0o755 })
  await chmod(files.hostsDir, 0o755)
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
  return { child, exited, files, isRunning: () => exit === null, readLine, macs: first }
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
          const first = await launch(settings, null)
          const state = {
            current: first, stopping: false, timer: null as NodeJS.Timeout | null, restarts: 0,
            /** Every MAC dnsmasq was told and has read: the hosts file's and the directory's. */
            known: new Set<Mac>(first.macs),
            /** The MACs whose file is in the hosts directory (added since the last full reload). */
            inDir: new Set<Mac>(),
          }
          const supervise = (running: typeof first) => {
            void running.exited.then(async () => {
              while (!state.stopping) {
                await sleep(RESTART_PAUSE_MS)
                if (state.stopping) return
                // The dead one's log is kept beside the new one's.
                await rename(running.files.log, `${running.files.log}.1`).catch(() => {})
                try {
                  // Started with every MAC it was told, in its hosts file.
                  state.current = await launch(settings, [...state.known])
                  state.inDir.clear()
                  state.restarts++
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
      /** The log since `offset` once every line in `lines` is in it (or null after the timeout). */
      const logWith = (offset: number, lines: ReadonlyArray<string>) =>
        waitFor(RELOAD_TIMEOUT_MS, async () => {
          const text = await readLogFrom(files.log, offset)
          const seen = new Set(text.split("\n").map((l) => l.slice(l.indexOf(": ") + 2)))
          return lines.every((l) => seen.has(l)) ? text : null
        })
      /** dnsmasq logs a bad line ("bad hex constant at line 2 of FILE") before "read FILE". */
      const complaintAbout = (log: string, path: string) => log.split("\n").find((l) => l.includes(` of ${path}`))

      /** The full reload: the hosts file holds every MAC, the directory none, dnsmasq re-reads both. */
      const reload = async (macs: ReadonlyArray<Mac>) => {
        const { child } = state.current
        if (!state.current.isRunning()) throw failed("is not running")
        const hosts = renderHostsFile(macs, settings.hosts)
        if (E.isLeft(hosts)) throw failed(hosts.left)
        const offset = (await stat(files.log)).size
        await writeFileAtomic(settings.stateDir, basename(files.hosts), hosts.right)
        await Promise.all([...state.inDir].map((mac) => rm(join(files.hostsDir!, hostFileName(mac)), { force: true })))
        state.inDir.clear()
        child.kill("SIGHUP")
        const fresh = await logWith(offset, [`read ${files.hosts}`])
        if (fresh === null) throw failed(`no "${readLine}" in its log within ${RELOAD_TIMEOUT_MS} ms of SIGHUP`)
        const complaint = complaintAbout(fresh, files.hosts)
        if (complaint !== undefined) throw failed(`rejected the hosts file: ${complaint}`)
        state.known = new Set(macs)
      }

      /** Each MAC in a file of its own, which dnsmasq reads alone: no other host is read again. */
      const addFiles = async (macs: ReadonlyArray<Mac>) => {
        if (!state.current.isRunning()) throw failed("is not running")
        const lines: Array<readonly [Mac, string]> = []
        for (const mac of macs) {
          const line = renderHostLine(mac, settings.hosts)
          if (E.isLeft(line)) throw failed(line.left)
          if (line.right !== null) lines.push([mac, line.right])
          else state.known.add(mac) // an ignored MAC: its `ignore` line is in the hosts file
        }
        if (lines.length === 0) return
        const offset = (await stat(files.log)).size
        await Promise.all(lines.map(([mac, line]) => writeFileAtomic(files.hostsDir!, hostFileName(mac), `${line}\n`)))
        for (const [mac] of lines) state.inDir.add(mac)
        const paths = lines.map(([mac]) => join(files.hostsDir!, hostFileName(mac)))
        const fresh = await logWith(offset, paths.map((p) => `read ${p}`))
        if (fresh === null) throw failed(`did not read ${paths.length === 1 ? paths[0] : `${paths.length} new host files`} within ${RELOAD_TIMEOUT_MS} ms`)
        for (const path of paths) {
          const complaint = complaintAbout(fresh, path)
          if (complaint !== undefined) throw failed(`rejected a host file: ${complaint}`)
        }
        for (const [mac] of lines) state.known.add(mac)
      }

      const change = async ({ add, remove }: BootMacsChange) => {
        const adding = new Set(add)
        const removing = remove.filter((mac) => state.known.has(mac) && !adding.has(mac))
        const fresh = [...adding].filter((mac) => !state.known.has(mac))
        if (removing.length > 0) {
          // dnsmasq forgets a host only on a full reload; the MACs added meanwhile ride along.
          const next = new Set(state.known)
          for (const mac of removing) next.delete(mac)
          for (const mac of fresh) next.add(mac)
          await reload([...next])
        } else if (fresh.length > 0) await addFiles(fresh)
      }

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
        changeBootMacs: (c) => logLock.withPermit(Effect.tryPromise({
          try: () => change(c),
          catch: (e) => e instanceof DnsmasqFailed ? e : failed(e instanceof Error ? e.message : String(e)),
        })),
        rotateLog: logLock.withPermit(Effect.promise(rotate)),
      }
    },
  )
