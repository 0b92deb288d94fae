// The garbage collector's pauses by kind, as prom-client's default `nodejs_gc_duration_seconds`
// (same name, help, labels and buckets), but counting every collection. prom-client's observer reads
// only the first entry of each batch Node hands it, and a busy loop is handed batches: over a
// fleet benchmark it had missed 12 of 5,291 scavenges and 1 of 107 full collections (ADR 0199).
import { constants, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks"
import { Histogram, type Registry } from "prom-client"

const kinds: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
}

/**
 * Puts the counting histogram in place of the one `collectDefaultMetrics` registered under `prefix`.
 * Its observer lives as long as the process, as prom-client's own do.
 */
export const observeGcPauses = (registry: Registry, prefix: string): void => {
  const name = `${prefix}nodejs_gc_duration_seconds`
  registry.removeSingleMetric(name)
  const pauses = new Histogram({
    name, help: "Garbage collection duration by kind, one of major, minor, incremental or weakcb.",
    labelNames: ["kind"], buckets: [0.001, 0.01, 0.1, 1, 2, 5], registers: [registry],
  })
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = kinds[(entry as PerformanceEntry & { detail: { kind: number } }).detail.kind]
      if (kind !== undefined) pauses.observe({ kind }, entry.duration / 1000)
    }
  })
  observer.observe({ entryTypes: ["gc"] })
}
