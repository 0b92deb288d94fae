// The stored fleet checkpoint (column by column, recurring values shared) against the live fleet:
// restored from its text, the fleet answers as the live one did and goes on folding the same way.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { Fleet, fleetSnapshotVersion } from "../../src/application/projections/fleet.ts"
import { decodeCheckpoint, encodeCheckpoint, type FleetColumns } from "../../src/application/projections/fleet-checkpoint.ts"
import type { Pools } from "../support/arbitraries.ts"
import { fleetLogArb } from "../support/fleet-log.ts"

const answers = (fleet: Fleet, pools: ReadonlyArray<Pools>) => ({
  position: fleet.position,
  list: fleet.list(),
  counts: fleet.countsByState(),
  byName: pools.flatMap((p) => p.names.map((n) => fleet.findByName(n)?.nodeId ?? null)),
  byMac: pools.flatMap((p) => p.macs.map((m) => fleet.findByMac(m)?.nodeId ?? null)),
  byInstance: pools.flatMap((p) => p.instanceIds.map((i) => fleet.findByInstance(i)?.nodeId ?? null)),
})

// Either way of storing a column, whatever the fleet: every value shared, or none.
const roundTrip = (fleet: Fleet, sharedPerNode: number): Fleet => {
  const stored = JSON.parse(encodeCheckpoint(fleetSnapshotVersion, fleet.position, [...fleet.nodes.values()], sharedPerNode)) as FleetColumns
  return Fleet.fromStates(stored.position, decodeCheckpoint(stored))
}

test("a fleet restored from its stored checkpoint equals the live one, and goes on folding the same way", () => {
  fc.assert(
    fc.property(fleetLogArb(), fc.nat(), fc.constantFrom(0, 1), ({ pools, log }, cutAt, sharedPerNode) => {
      const cut = log.length === 0 ? 0 : cutAt % (log.length + 1)
      const live = new Fleet()
      for (const e of log.slice(0, cut)) live.apply(e.nodeId, e, e.position)
      const restored = roundTrip(live, sharedPerNode)
      for (const [id, n] of live.nodes) assert.deepEqual(restored.nodes.get(id), n)
      assert.deepEqual([...restored.nodes.keys()], [...live.nodes.keys()])
      assert.deepEqual(answers(restored, pools), answers(live, pools))
      for (const e of log.slice(cut)) {
        live.apply(e.nodeId, e, e.position)
        restored.apply(e.nodeId, e, e.position)
      }
      for (const [id, n] of live.nodes) assert.deepEqual(restored.nodes.get(id), n)
      assert.deepEqual(answers(restored, pools), answers(live, pools))
    }),
    { numRuns: 200 },
  )
})

test("values many nodes share are stored once and restored as one frozen copy", () => {
  const live = new Fleet()
  const log = fc.sample(fleetLogArb(), { numRuns: 1, seed: 7 })[0]!.log
  for (const e of log) live.apply(e.nodeId, e, e.position)
  const one = [...live.nodes.values()][0]
  assert.ok(one !== undefined, "the sample log enrolls a node")
  // Forty copies of one node under other ids: every recurring field goes to the shared table.
  const copies = Array.from({ length: 40 }, (_, i) => ({ ...one, nodeId: `${one.nodeId.slice(0, -2)}${String(i).padStart(2, "0")}`, interfaces: { power: "fake", boot: "fake" } }))
  const stored = JSON.parse(encodeCheckpoint(fleetSnapshotVersion, 5, copies as never)) as FleetColumns
  assert.deepEqual(stored.columns["interfaces"], { refs: Array(40).fill(stored.shared.findIndex((v) => JSON.stringify(v) === JSON.stringify({ power: "fake", boot: "fake" }))) })
  assert.ok("values" in stored.columns["nodeId"]!, "ids differ per node: stored as values")
  const states = decodeCheckpoint(stored)
  assert.equal(states[0]!.interfaces, states[39]!.interfaces, "one copy for all")
  assert.ok(Object.isFrozen(states[0]!.interfaces))
  assert.throws(() => { (states[0]!.interfaces as Record<string, string>)["power"] = "ipmi" }, TypeError)
  assert.deepEqual(states, copies)
})
