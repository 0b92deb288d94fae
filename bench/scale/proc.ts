// CPU time and RSS of a process tree, read from /proc: what the service costs, whatever runs it
// (the API, the conductor, worker threads and any child process it starts).
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

/** Resident set of the whole tree, in MiB. */
export const treeRssMiB = (root: number): number =>
  treeOf(root).reduce((sum, pid) => {
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]
      return sum + Number(kb ?? 0) / 1024
    } catch {
      return sum
    }
  }, 0)

/** This process's own CPU seconds (the load client). */
export const selfCpuSeconds = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

export const loadAverage = (): string => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")
