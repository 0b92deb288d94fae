// Reads over the goal's latency, grouped into bursts: reads whose starts lie less than `gapMs` apart.
// A tail made of a few large bursts is the service stalling (a full collection's marking, ADR 0199);
// one spread over many small ones is reads queueing behind each other.
import { percentile } from "./http.ts"

export interface Bursts {
  /** Reads slower than the threshold. */
  readonly slow: number
  readonly bursts: number
  /** The largest burst: its reads, its slowest read, and how long it lasted (first start to last). */
  readonly largest: { readonly reads: number; readonly maxMs: number; readonly spanMs: number }
}

/** `starts` and `latencies` are per read, in the order sent (ms). */
export const readBursts = (starts: ReadonlyArray<number>, latencies: ReadonlyArray<number>, overMs: number, gapMs = 30): Bursts => {
  const slow = starts.flatMap((at, i) => (latencies[i]! > overMs ? [{ at, ms: latencies[i]! }] : [])).sort((a, b) => a.at - b.at)
  let bursts = 0
  let largest = { reads: 0, maxMs: 0, spanMs: 0 }
  for (let i = 0; i < slow.length;) {
    let j = i + 1
    while (j < slow.length && slow[j]!.at - slow[j - 1]!.at < gapMs) j++
    bursts++
    if (j - i > largest.reads) {
      let maxMs = 0
      for (let k = i; k < j; k++) maxMs = Math.max(maxMs, slow[k]!.ms)
      largest = { reads: j - i, maxMs, spanMs: slow[j - 1]!.at - slow[i]!.at }
    }
    i = j
  }
  return { slow: slow.length, bursts, largest }
}

/**
 * The highest p99 among the phase's consecutive windows of `windowMs` (by the reads' starts; what is
 * left past the last whole window joins it). A phase's p99 says how many reads were slow, not how
 * unevenly they fell: a full collection every half a minute puts one window far above the others.
 */
export const worstWindowP99 = (starts: ReadonlyArray<number>, latencies: ReadonlyArray<number>, windowMs = 5000): { readonly ms: number; readonly windows: number } => {
  if (starts.length === 0) return { ms: NaN, windows: 0 }
  let first = Infinity, last = -Infinity
  for (const at of starts) { first = Math.min(first, at); last = Math.max(last, at) }
  const windows = Math.max(1, Math.floor((last - first) / windowMs))
  const byWindow = Array.from({ length: windows }, () => new Array<number>())
  starts.forEach((at, i) => byWindow[Math.min(windows - 1, Math.floor((at - first) / windowMs))]!.push(latencies[i]!))
  return { ms: Math.max(...byWindow.map((w) => percentile(w, 99))), windows }
}
