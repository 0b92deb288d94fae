// Measuring helpers for bench:boot-scale: CPU time from /proc (the machine is shared, so wall time
// alone says little), percentiles, and the table.
import { readFileSync } from "node:fs"
import { loadavg } from "node:os"

const TICK_MS = 10 // USER_HZ is 100 on Linux

/** CPU time (user + system, ms) a live process has used, its reaped children included. */
export const cpuOfPid = (pid: number): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    // fields[11..14] = utime, stime, cutime, cstime (stat fields 14-17)
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) * TICK_MS
  } catch {
    return 0
  }
}

/** This process's CPU time (ms), its reaped children (e.g. ipmitool) included. */
export const cpuOfSelf = () => cpuOfPid(process.pid)

export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

export interface Row {
  readonly part: string
  readonly scale: string
  readonly figures: Readonly<Record<string, number | string>>
}

const show = (v: number | string) => typeof v === "string" ? v : Number.isInteger(v) ? String(v) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)

export const loadAverage = () => loadavg().map((l) => l.toFixed(2)).join(" ")

/** One line per row: part, scale, then name=value pairs. */
export const printRows = (rows: ReadonlyArray<Row>) => {
  const width = Math.max(...rows.map((r) => `${r.part} ${r.scale}`.length))
  for (const r of rows) {
    console.log(`${`${r.part} ${r.scale}`.padEnd(width)} | ${Object.entries(r.figures).map(([k, v]) => `${k}=${show(v)}`).join("  ")}`)
  }
}

// What a part must stop if the run is interrupted (Ctrl-C, kill): its dnsmasq, BMCs, tgtd.
const cleanups = new Set<() => Promise<unknown>>()
let handlersInstalled = false
/** Registers `stop` until the returned function is called; an interrupted run calls every one first. */
export const stopOnInterrupt = (stop: () => Promise<unknown>): (() => void) => {
  if (!handlersInstalled) {
    handlersInstalled = true
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        void Promise.allSettled([...cleanups].map((c) => c())).then(() => process.exit(130))
      })
    }
  }
  cleanups.add(stop)
  return () => { cleanups.delete(stop) }
}
