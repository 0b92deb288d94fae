// Walks that read only what they need: the parts lists find their nodes through the parts index,
// and an allocation looks at candidates one at a time, in random order, until one is taken.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { Fleet } from "../../src/application/projections/fleet.ts"
import { candidates, free, mismatch } from "../../src/application/scheduler.ts"
import { initialState, type AllocationRecord, type NodeState, type Uuid } from "../../src/domain/index.ts"
import { fleetLogArb } from "../support/fleet-log.ts"

/** An allocation any free node matches. */
const anyNode = {
  allocationId: "a", name: null, resourceClass: null, traits: [], candidateNodes: [], extra: {}, owner: null, properties: {}, backfill: false,
} as unknown as AllocationRecord

test("the nodes holding a kind of part, from the index, are the live nodes that hold one", () => {
  fc.assert(fc.property(fleetLogArb(), ({ log }) => {
    const fleet = new Fleet()
    for (const e of log) fleet.apply(e.nodeId, e, e.position)
    const ids = (nodes: ReadonlyArray<NodeState>) => nodes.map((n) => n.nodeId).sort()
    assert.deepEqual(ids(fleet.holding("portgroup")), ids(fleet.list().filter((n) => n.portgroups.length > 0)))
    assert.deepEqual(ids(fleet.holding("volume-connector")), ids(fleet.list().filter((n) => n.volumeConnectors.length > 0)))
    assert.deepEqual(ids(fleet.holding("volume-target")), ids(fleet.list().filter((n) => n.volumeTargets.length > 0)))
  }), { numRuns: 200 })
})

test("candidates are every free match, each once, and are read only as far as the caller goes", () => {
  fc.assert(fc.property(fleetLogArb(), fc.integer({ min: 0, max: 2 ** 31 - 1 }), ({ log }, seed) => {
    const fleet = new Fleet()
    for (const e of log) fleet.apply(e.nodeId, e, e.position)
    const all = fleet.list().map((n) => n.nodeId)
    let x = seed
    const random = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    let read = 0
    const stateOf = (id: string) => { read++; return fleet.get(id) }
    const found = [...candidates(all, stateOf, anyNode, random)].map((n) => n.nodeId)
    assert.deepEqual([...found].sort(), fleet.list().filter((n) => free(n) && mismatch(n, anyNode) === null).map((n) => n.nodeId).sort())
    assert.equal(read, all.length, "a walk to the end reads each node once")
  }), { numRuns: 200 })
  // A pool of free nodes: the first candidate is the first node read.
  const pool = Array.from({ length: 50 }, (_, i) => ({ ...initialState(`n${i}` as Uuid), provisionState: "available" as const }))
  let read = 0
  const first = candidates(pool.map((n) => n.nodeId), (id) => { read++; return pool.find((n) => n.nodeId === id) }, anyNode).next()
  assert.equal(first.done, false)
  assert.equal(read, 1, "one node read for the first of 50 matches")
})
