// How long one power sync pass takes, seen from outside: the server's CPU sampled every 25 ms over
// a few intervals while every node rests; a pass is a burst of busy samples.
import { treeCpuSeconds } from "./proc.ts"

export interface SyncFigures {
  /** Server CPU per interval (everything the idle service does, sync included). */
  readonly cpuPerIntervalS: number
  /** The longest burst of busy CPU: one pass, when passes are shorter than the interval. */
  readonly longestBurstS: number
  readonly longestBurstCpuS: number
  readonly bursts: number
}

export const observeSync = async (pid: number, intervalS: number, intervals: number): Promise<SyncFigures> => {
  const sampleMs = 25
  const samples: Array<{ t: number; cpu: number }> = []
  const end = performance.now() + intervalS * intervals * 1000
  while (performance.now() < end) {
    samples.push({ t: performance.now(), cpu: treeCpuSeconds(pid) })
    await new Promise((w) => setTimeout(w, sampleMs))
  }
  // A burst: consecutive samples using more than a third of a core, gaps under 200 ms bridged.
  const bursts: Array<{ start: number; end: number; cpu: number }> = []
  let current: { start: number; end: number; cpu: number } | null = null
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!, b = samples[i]!
    const used = b.cpu - a.cpu
    const busy = used / ((b.t - a.t) / 1000) > 0.33
    if (busy) {
      if (current !== null && a.t - current.end < 200) { current.end = b.t; current.cpu += used }
      else { current = { start: a.t, end: b.t, cpu: used }; bursts.push(current) }
    }
  }
  const longest = bursts.reduce((m, b) => (b.end - b.start > m.end - m.start ? b : m), { start: 0, end: 0, cpu: 0 })
  const total = samples.length > 1 ? samples[samples.length - 1]!.cpu - samples[0]!.cpu : 0
  return {
    cpuPerIntervalS: total / intervals,
    longestBurstS: (longest.end - longest.start) / 1000,
    longestBurstCpuS: longest.cpu,
    bursts: bursts.length,
  }
}
