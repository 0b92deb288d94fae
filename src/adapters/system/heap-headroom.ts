// The old generation's headroom grows with what it holds (ADR 0207). bin/ironledger starts V8 with
// --heap-growing-percent=50: after a full collection, the next one starts once the old generation
// has grown by half of what survived, which keeps a small fleet's service within its memory goals.
// A full collection marks everything live, so a 100,000-node fleet's takes about four times as long
// as one of 10,000 active nodes, and reads that arrive meanwhile wait (ADR 0199). At a fixed percent
// the long collections came as often as the short ones; here the percent grows with the live heap,
// up to a bound the memory goals allow, so they come less often as they get longer.
import { constants, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks"
import { getHeapStatistics, setFlagsFromString } from "node:v8"

const MiB = 2 ** 20

export interface HeadroomPolicy {
  /** The floor, bin/ironledger's own percent: the proportional percent passes it above `doubleAtMiB * minPercent / 100`. */
  readonly minPercent: number
  /** Live heap at which the old generation may grow by as much as it holds (100 %). */
  readonly doubleAtMiB: number
  readonly maxPercent: number
}

/**
 * 50 % up to 64 MiB live (a service with 10,000 active nodes holds less), 100 % from 128 MiB: at
 * most twice the live heap, so 100,000 idle nodes stay well within 4 KiB each (ADR 0207).
 */
export const defaultHeadroom: HeadroomPolicy = { minPercent: 50, doubleAtMiB: 128, maxPercent: 100 }

/** The growing percent for this many live bytes: in proportion, in steps of 10, within the bounds. */
export const growingPercent = (liveBytes: number, policy: HeadroomPolicy = defaultHeadroom): number => {
  const proportional = Math.round((10 * liveBytes) / (policy.doubleAtMiB * MiB)) * 10
  return Math.min(policy.maxPercent, Math.max(policy.minPercent, proportional))
}

/**
 * After each full collection, sets V8's growing percent for the next one from what is live now.
 * V8 reads the flag whenever a full collection ends and sets the next limit, so a change takes
 * effect from the collection after the one observed. For the life of the process, as the
 * collector's own observers are; returns the percent in force, for tests and diagnostics.
 */
export const keepHeapHeadroom = (policy: HeadroomPolicy = defaultHeadroom): { readonly percent: () => number } => {
  let percent = policy.minPercent
  const observer = new PerformanceObserver((list) => {
    const major = list.getEntries().some((entry) =>
      (entry as PerformanceEntry & { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
    if (!major) return
    const next = growingPercent(getHeapStatistics().used_heap_size, policy)
    if (next === percent) return
    percent = next
    setFlagsFromString(`--heap-growing-percent=${next}`)
  })
  observer.observe({ entryTypes: ["gc"] })
  return { percent: () => percent }
}
