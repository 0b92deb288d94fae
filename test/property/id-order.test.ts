// The fleet's kept UUID order (IdOrder) holds every id added, once each, in order: whether they came
// one by one or as a bulk load, and across the splits of its blocks.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { IdOrder } from "../../src/application/projections/id-order.ts"

const id = fc.nat(5_000).map((n) => n.toString(36).padStart(4, "0"))
// Runs of single adds long enough to split blocks (of 512), and bulk loads both large and small
// against what the order holds (one sort and merge, or an add each).
const step = fc.oneof(
  fc.record({ one: fc.array(id, { maxLength: 1_200, size: "max" }) }),
  fc.record({ many: fc.array(id, { maxLength: 1_500, size: "max" }) }),
  fc.record({ after: fc.option(id, { nil: undefined }), limit: fc.integer({ min: 1, max: 700 }) }),
)

test("an IdOrder walks what was added, sorted and without repeats, from any id on", () => {
  fc.assert(fc.property(fc.array(step, { maxLength: 25 }), (steps) => {
    const order = new IdOrder()
    const held = new Set<string>()
    for (const s of steps) {
      if ("one" in s) for (const x of s.one) { order.add(x); held.add(x) }
      else if ("many" in s) { order.addAll(s.many); for (const x of s.many) held.add(x) }
      else {
        const seen: Array<string> = []
        order.walk(s.after, (x) => { seen.push(x); return seen.length < s.limit })
        const expected = [...held].sort().filter((x) => s.after === undefined || x > s.after).slice(0, s.limit)
        assert.deepEqual(seen, expected)
      }
      assert.equal(order.size, held.size)
    }
    const all: Array<string> = []
    order.walk(undefined, (x) => { all.push(x); return true })
    assert.deepEqual(all, [...held].sort())
  }), { numRuns: 200 })
})
