// The shape of the reads' tail bench:scale prints: bursts of slow reads, and the worst window's p99.
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { readBursts, worstWindowP99 } from "../../bench/scale/read-bursts.ts"

describe("the reads' tail in bench:scale", () => {
  // A read every millisecond for 10 s (10,001 reads: two whole windows of 5 s), fast but for 100 ms
  // of slow ones in the second window.
  const starts = Array.from({ length: 10_001 }, (_, i) => i)
  const latencies = starts.map((at) => (at >= 6000 && at < 6100 ? 100 : 1))

  it("finds the slow reads as one burst", () => {
    assert.deepEqual(readBursts(starts, latencies, 20), { slow: 100, bursts: 1, largest: { reads: 100, maxMs: 100, spanMs: 99 } })
  })

  it("gives the p99 of the window that holds them, not of the whole phase", () => {
    assert.deepEqual(worstWindowP99(starts, latencies), { ms: 100, windows: 2 })
    // Over both windows the 100 slow reads are the slowest 1 %: the p99 read is the first fast one.
    assert.deepEqual(worstWindowP99(starts, latencies, 10_000), { ms: 1, windows: 1 })
    assert.deepEqual(worstWindowP99([], []), { ms: NaN, windows: 0 })
  })
})
