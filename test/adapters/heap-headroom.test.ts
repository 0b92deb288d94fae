// The heap's headroom against the V8 this project runs on: the percent follows the live heap, and V8
// takes a percent set after start-up for the limits it sets next (ADR 0207).
import { spawnSync } from "node:child_process"
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { defaultHeadroom, growingPercent } from "../../src/adapters/system/heap-headroom.ts"

const MiB = 2 ** 20

describe("heap headroom", () => {
  it("is 50 % up to half the doubling size, in proportion above it, and bounded", () => {
    assert.equal(growingPercent(0), 50)
    assert.equal(growingPercent(64 * MiB), 50)
    assert.equal(growingPercent(90 * MiB), 70)
    assert.equal(growingPercent(128 * MiB), 100)
    assert.equal(growingPercent(1024 * MiB), 100)
    assert.equal(growingPercent(200 * MiB, { ...defaultHeadroom, maxPercent: 300 }), 160)
  })

  it("V8 grows the old generation by the percent set after a full collection, up and back down", () => {
    // A child on this project's Node holds ~70 MB past a (scaled down) doubling size of 16 MiB, then
    // lets it go. V8's own trace prints the factor of each limit it sets.
    const module = new URL("../../src/adapters/system/heap-headroom.ts", import.meta.url).href
    const script = `
      import { keepHeapHeadroom } from ${JSON.stringify(module)}
      const headroom = keepHeapHeadroom({ minPercent: 50, doubleAtMiB: 16, maxPercent: 200 })
      const turn = () => new Promise((r) => setTimeout(r, 10))
      const collect = async () => { gc(); await turn() }
      await collect()
      console.log("MARK small", headroom.percent())
      const held = []
      for (let i = 0; i < 48; i++) { held.push(Array.from({ length: 25000 }, (_, j) => ({ i, j, s: "n" + j }))); await turn() }
      await collect()
      console.log("MARK grown", headroom.percent())
      await collect()
      held.length = 0
      await collect()
      console.log("MARK released", headroom.percent())
      await collect()
      console.log("MARK end")
    `
    const child = spawnSync(process.execPath, ["--heap-growing-percent=50", "--trace-gc-verbose", "--expose-gc", "--input-type=module", "-e", script],
      { encoding: "utf8", timeout: 60_000 })
    assert.equal(child.status, 0, child.stderr)
    const lines = child.stdout.split("\n")
    const marks = lines.filter((l) => l.startsWith("MARK"))
    assert.deepEqual(marks, ["MARK small 50", "MARK grown 200", "MARK released 50", "MARK end"])
    /** The factors of the limits V8 set between two marks. */
    const factors = (from: string, to: string) =>
      lines.slice(lines.indexOf(from), lines.indexOf(to)).flatMap((l) => /\[HeapController\] factor (\d+\.\d)/.exec(l)?.[1] ?? [])
    const grown = factors("MARK grown 200", "MARK released 50")
    assert.ok(grown.includes("3.0"), `a limit set with factor 3.0 while holding: ${grown.join(", ")}`)
    const released = factors("MARK released 50", "MARK end")
    assert.deepEqual([...new Set(released)], ["1.5"], `limits set with factor 1.5 only, once let go: ${released.join(", ")}`)
  })
})
