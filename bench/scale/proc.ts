// CPU time and RSS of a process tree, read from /proc: what the service costs, whatever runs it
// (the API, the conductor, worker threads and any child process it starts).
import { spawnSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"

const ticksPerSecond = 100 // USER_HZ on Linux

interface Stat { readonly pid: number; readonly ppid: number; readonly ticks: number }

/** utime+stime of the process (all its threads) plus cutime+cstime of children it has reaped. */
const statOf = (pid: number): Stat | null => {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8")
    // The command name (field 2) may hold spaces and parentheses: fields count from the last ")".
    const f = raw.slice(raw.lastIndexOf(")") + 2).split(" ")
    return { pid, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) }
  } catch {
    return null
  }
}

/** `root` and every process descending from it that is alive now. */
export const treeOf = (root: number): ReadonlyArray<number> => {
  const children = new Map<number, Array<number>>()
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue
    const s = statOf(Number(name))
    if (s === null) continue
    const list = children.get(s.ppid) ?? children.set(s.ppid, []).get(s.ppid)!
    list.push(s.pid)
  }
  const out: Array<number> = []
  const walk = (pid: number) => { out.push(pid); for (const c of children.get(pid) ?? []) walk(c) }
  walk(root)
  return out
}

/** Seconds of CPU the whole tree under `root` has used so far (children included). */
export const treeCpuSeconds = (root: number): number =>
  treeOf(root).reduce((sum, pid) => sum + (statOf(pid)?.ticks ?? 0), 0) / ticksPerSecond

/**
 * Resident set of the whole tree, in MiB: all of it (the goals' figure), and its parts. `file` is the
 * pages of mapped files, mostly Node's own binary, held as far as the OS's cache and its mapping
 * around each fault allow; `anon` is the service's own memory (heaps, stacks, buffers). The parts told
 * why one build started at 108 and at 124 MiB: anon 54 against 65, a cold compile cache (server.ts).
 */
export interface Rss { readonly total: number; readonly anon: number; readonly file: number }

export const treeRss = (root: number): Rss =>
  treeOf(root).reduce((sum, pid) => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8")
      const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024
      return { total: sum.total + kb("VmRSS"), anon: sum.anon + kb("RssAnon"), file: sum.file + kb("RssFile") }
    } catch {
      return sum
    }
  }, { total: 0, anon: 0, file: 0 })

/** "153 MiB (anon 97, file 56)". */
export const rssText = (rss: Rss): string => `${rss.total.toFixed(0)} MiB (anon ${rss.anon.toFixed(0)}, file ${rss.file.toFixed(0)})`

/** KiB per node that RSS grew by from `from` to `to`, whole and anon: "8.9 KiB ... (anon 8.7)". */
export const perNodeText = (from: Rss, to: Rss, nodes: number, digits: number, what: string): string =>
  `${((to.total - from.total) * 1024 / nodes).toFixed(digits)} KiB ${what} (anon ${((to.anon - from.anon) * 1024 / nodes).toFixed(digits)})`

/** This process's own CPU seconds (the load client). */
export const selfCpuSeconds = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

export const loadAverage = (): string => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")

/**
 * Runs this benchmark again pinned to `core` (and exits with its status) unless it already is: a
 * client that may share the server's core takes turns from its event loop, which halved GET
 * throughput in some runs of bench:api.
 */
export const pinClientToCore = (core: number): void => {
  if (process.env["IRONLEDGER_BENCH_PINNED"] === "1") return
  const r = spawnSync("taskset", ["-c", String(core), process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit", env: { ...process.env, IRONLEDGER_BENCH_PINNED: "1" },
  })
  process.exit(r.status ?? 1)
}
