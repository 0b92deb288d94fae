// Reads over the goal's latency, grouped into bursts: reads whose starts lie less than `gapMs` apart.
// A tail made of a few large bursts is the service stalling (a full collection's marking, ADR 0199);
// one spread over many small ones is reads queueing behind each other.

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
