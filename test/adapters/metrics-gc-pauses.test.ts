// The service's garbage-collection histogram counts every collection, also those Node hands its
// observers in one batch (prom-client's default histogram counts the first of each batch only).
import { test } from "node:test"
import assert from "node:assert/strict"
import { PerformanceObserver } from "node:perf_hooks"
import { collectDefaultMetrics, Registry } from "prom-client"
import { observeGcPauses } from "../../src/adapters/metrics/gc-pauses.ts"

const turn = () => new Promise((wake) => setTimeout(wake, 20))

test("every collection of a batch is counted, by kind", async () => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: "t_" })
  observeGcPauses(registry, "t_")
  let seen = 0
  let largestBatch = 0
  const reference = new PerformanceObserver((list) => {
    seen += list.getEntries().length
    largestBatch = Math.max(largestBatch, list.getEntries().length)
  })
  reference.observe({ entryTypes: ["gc"] })
  try {
    // Several young-generation collections within one turn of the loop: one batch for the observers.
    for (let round = 0; round < 5; round++) {
      let keep: Array<{ readonly i: number; readonly text: string }> = []
      for (let i = 0; i < 400_000; i++) {
        keep.push({ i, text: `node-${i}` })
        if (keep.length > 50_000) keep = []
      }
      await turn()
    }
    await turn()
    assert.ok(largestBatch > 1, `the allocation gave no batch of several collections (largest ${largestBatch})`)
    const metric = registry.getSingleMetric("t_nodejs_gc_duration_seconds")
    assert.ok(metric !== undefined, "no t_nodejs_gc_duration_seconds")
    const counts = ((await metric.get()).values as Array<{ value: number; labels: Record<string, string | number | undefined>; metricName?: string }>)
      .filter((v) => v.metricName === "t_nodejs_gc_duration_seconds_count")
    assert.ok(counts.every((v) => ["major", "minor", "incremental", "weakcb"].includes(String(v.labels["kind"]))))
    assert.equal(counts.reduce((sum, v) => sum + v.value, 0), seen)
    assert.ok(counts.some((v) => v.labels["kind"] === "minor" && v.value > 0), "no young-generation collection counted")
  } finally {
    reference.disconnect()
  }
})
