// What power sync costs, seen from outside: the server's CPU over a few whole intervals while every
// node rests. A pass is spread over its interval (ADR 0125), so it has no burst of its own to time:
// the whole interval's CPU is its figure (everything the idle service does, sync included).
import { treeCpuSeconds } from "./proc.ts"

export interface SyncFigures {
  /** Server CPU per interval. */
  readonly cpuPerIntervalS: number
  /** The busiest second's share of a core: how dense the pass's work is at its peak. */
  readonly peakCoreShare: number
}

export const observeSync = async (pid: number, intervalS: number, intervals: number): Promise<SyncFigures> => {
  const samples: Array<{ t: number; cpu: number }> = []
  const end = performance.now() + intervalS * intervals * 1000
  while (performance.now() < end) {
    samples.push({ t: performance.now(), cpu: treeCpuSeconds(pid) })
    await new Promise((w) => setTimeout(w, 1000))
  }
  let peak = 0
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!, b = samples[i]!
    peak = Math.max(peak, (b.cpu - a.cpu) / ((b.t - a.t) / 1000))
  }
  const total = samples.length > 1 ? samples[samples.length - 1]!.cpu - samples[0]!.cpu : 0
  const spanS = samples.length > 1 ? (samples[samples.length - 1]!.t - samples[0]!.t) / 1000 : 1
  return { cpuPerIntervalS: (total / spanS) * intervalS, peakCoreShare: peak }
}
