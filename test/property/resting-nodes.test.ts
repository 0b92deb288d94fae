// Nodes at rest (ADR 0200) against a fleet whose nodes never rest: put to rest at random moments of
// a random log, the fleet answers every read the same, filters the same, folds the rest of the log
// to the same states, and stores the same checkpoint text.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { matchesFilter } from "../../src/application/node-service/node-filter.ts"
import type { NodeFilter } from "../../src/application/node-service.ts"
import { encodeCheckpoint } from "../../src/application/projections/fleet-checkpoint.ts"
import { Fleet, fleetSnapshotVersion } from "../../src/application/projections/fleet.ts"
import { instanceUuidOf, RestingNode } from "../../src/application/projections/node-table.ts"
import { provisionStates, type NodeState } from "../../src/domain/index.ts"
import type { Pools } from "../support/arbitraries.ts"
import { fleetLogArb } from "../support/fleet-log.ts"

/** Each of GET /v1/nodes' filters with each value the logs can give it. */
const filtersFor = (pools: ReadonlyArray<Pools>): ReadonlyArray<NodeFilter> => [
  ...provisionStates.map((provisionState) => ({ provisionState })),
  ...[true, false].flatMap((b) => [{ maintenance: b }, { associated: b }, { retired: b }]),
  ...(["fake-hardware", "ipmi"] as const).map((driver) => ({ driver })),
  ...pools.flatMap((p) => p.instanceIds).map((instanceUuid) => ({ instanceUuid })),
  ...["baremetal", "gold"].map((resourceClass) => ({ resourceClass })),
  ...["", "rack1", "RACK1"].map((conductorGroup) => ({ conductorGroup })),
  ...["alice", "bob"].flatMap((who) => [{ owner: who }, { lessee: who }]),
  ...["power failure", "clean failure"].map((fault) => ({ fault })),
  ...["", "rack", "spare"].map((descriptionContains) => ({ descriptionContains })),
]

const answers = (fleet: Fleet, pools: ReadonlyArray<Pools>, filters: ReadonlyArray<NodeFilter>) => ({
  position: fleet.position,
  states: [...fleet.nodes.keys()].map((id) => fleet.nodes.get(id)),
  all: [...fleet.nodes.values()],
  list: fleet.list(),
  live: pools.map((p) => fleet.get(p.nodeId) ?? null),
  pages: filters.map((f) => fleet.page((n) => matchesFilter(n, f), Infinity).map((n) => n.nodeId)),
  counts: fleet.countsByState(),
  leases: [...fleet.summaries()].map((n) => [n.nodeId, n.lease]),
  holding: (["portgroup", "volume-connector", "volume-target"] as const).map((kind) => fleet.holding(kind).map((n) => n.nodeId).sort()),
  available: fleet.idsInState("available").sort(),
  byState: provisionStates.map((s) => [...fleet.inState(s)].map((n) => n.nodeId)),
  byName: pools.flatMap((p) => p.names.map((n) => fleet.findByName(n)?.nodeId ?? null)),
  byMac: pools.flatMap((p) => p.macs.map((m) => fleet.findByMac(m)?.nodeId ?? null)),
  byInstance: pools.flatMap((p) => p.instanceIds.map((i) => fleet.findByInstance(i)?.nodeId ?? null)),
  checkpoint: encodeCheckpoint(fleetSnapshotVersion, fleet.position, fleet.nodes.now()),
})

test("nodes put at rest at random moments leave every answer, filter, fold and checkpoint as they were", () => {
  fc.assert(
    fc.property(
      fleetLogArb().chain(({ pools, log }) => fc.record({
        pools: fc.constant(pools),
        log: fc.constant(log),
        // Before each event: how many periods begin, and how many nodes may go to rest.
        rests: fc.array(fc.record({ periods: fc.nat(3), max: fc.nat(6) }), { minLength: log.length, maxLength: log.length }),
      })),
      ({ pools, log, rests }) => {
        const filters = filtersFor(pools)
        const plain = new Fleet()
        const resting = new Fleet()
        let rested = 0
        log.forEach((e, i) => {
          for (let p = 0; p < rests[i]!.periods; p++) resting.nodes.nextPeriod()
          rested += resting.nodes.rest(rests[i]!.max)
          plain.apply(e.nodeId, e, e.position)
          resting.apply(e.nodeId, e, e.position)
          if (i % 5 === 4) assert.deepEqual(answers(resting, pools, filters), answers(plain, pools, filters))
        })
        resting.nodes.nextPeriod()
        resting.nodes.nextPeriod()
        rested += resting.nodes.rest(Infinity)
        assert.equal(resting.nodes.resting, resting.nodes.size, "every node rests in the end")
        assert.ok(log.length === 0 || rested > 0)
        assert.deepEqual(answers(resting, pools, filters), answers(plain, pools, filters))
      },
    ),
    { numRuns: 200 },
  )
})

test("a node rests only after a whole period without a write, and a write wakes it", () => {
  const log = fc.sample(fleetLogArb(), { numRuns: 1, seed: 7 })[0]!.log
  const fleet = new Fleet()
  for (const e of log) fleet.apply(e.nodeId, e, e.position)
  const size = fleet.nodes.size
  assert.ok(size > 0, "the sample log enrolls a node")
  assert.equal(fleet.nodes.rest(Infinity), 0, "written in this period")
  fleet.nodes.nextPeriod()
  assert.equal(fleet.nodes.rest(Infinity), 0, "written in the last period")
  fleet.nodes.nextPeriod()
  assert.equal(fleet.nodes.rest(1), 1, "at most as many as asked")
  assert.equal(fleet.nodes.rest(Infinity), size - 1)
  const [first] = fleet.nodes.keys()
  const state = fleet.nodes.get(first!)!
  assert.notEqual(fleet.nodes.get(first!), state, "woken anew for each read")
  fleet.nodes.set(first!, state)
  assert.equal(fleet.nodes.resting, size - 1, "a write wakes it")
  assert.equal(fleet.nodes.get(first!), state)
})

test("a node at rest keeps every field the filters read", () => {
  const log = fc.sample(fleetLogArb(), { numRuns: 1, seed: 7 })[0]!.log
  const fleet = new Fleet()
  for (const e of log) fleet.apply(e.nodeId, e, e.position)
  const [base] = fleet.nodes.values()
  const summaryKeys = ["nodeId", "lease", "deleted", "provisionState", "maintenance", "driver", "resourceClass", "conductorGroup", "owner", "lessee", "fault", "retired", "description"] as const
  const changed: NodeState = {
    ...base!, deleted: true, provisionState: "active", maintenance: true, driver: "ipmi" as NodeState["driver"], resourceClass: "gold", conductorGroup: "rack1",
    lease: { holder: "c1", expiresAt: "2030-01-01T00:00:00.000Z" }, owner: "alice", lessee: "bob", fault: "power failure", retired: true, description: "spare", instanceUuid: null, instanceInfo: { instance_uuid: "i-1" },
  }
  for (const n of [base!, changed]) {
    const resting = new RestingNode(n)
    for (const key of summaryKeys) assert.deepEqual(resting[key], n[key] ?? null, key)
    assert.equal(instanceUuidOf(resting), instanceUuidOf(n))
    assert.deepEqual(resting.state(), n)
  }
})
