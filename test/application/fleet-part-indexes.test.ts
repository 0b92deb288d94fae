// The fleet's port and allocation indexes (the ports and allocations APIs' lookups and pages): after
// any sequence of nodes gaining, losing and moving ports or allocations and being deleted, a port or
// an allocation is found on the live node that holds it, and the ordered port uuids are exactly the
// live nodes' ports, sorted, as are their MACs (with a version that moves when they do).
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { Fleet } from "../../src/application/projections/fleet.ts"
import type { NodeState } from "../../src/domain/index.ts"

const uuid = (n: number, kind: number) => `${n.toString(16).padStart(8, "0")}-000${kind}-4000-8000-000000000000`
const node = (id: number, deleted: boolean, ports: ReadonlyArray<number>) => ({
  nodeId: uuid(id, 0), deleted, name: null, instanceInfo: {}, instanceUuid: null, allocation: null, portgroups: [], volumeConnectors: [], volumeTargets: [],
  provisionState: "manageable", revision: 0,
  ports: ports.map((p) => ({ portId: uuid(p, 1), mac: `52:54:00:00:${(p >> 8).toString(16).padStart(2, "0")}:${(p & 255).toString(16).padStart(2, "0")}` })),
}) as unknown as NodeState

test("ports are found on their live node, and listed in order, as nodes gain, lose and move ports", () => {
  fc.assert(fc.property(
    fc.array(fc.record({ id: fc.nat(30), deleted: fc.boolean(), ports: fc.uniqueArray(fc.nat(60), { maxLength: 3 }), look: fc.boolean() }), { maxLength: 60 }),
    (steps) => {
      const fleet = new Fleet()
      const replace = (fleet as unknown as { replace: (b: NodeState | undefined, a: NodeState) => void }).replace.bind(fleet)
      let seen = { macs: fleet.macs(), version: fleet.portsVersion() }
      for (const s of steps) {
        // A port moves to the new node: it leaves the node that held it first (as the domain requires).
        for (const other of [...fleet.nodes.values()]) {
          const kept = other.ports.filter((p) => !s.ports.some((q) => uuid(q, 1) === p.portId))
          if (other.nodeId !== uuid(s.id, 0) && kept.length !== other.ports.length) replace(other, { ...other, ports: kept })
        }
        replace(fleet.nodes.get(uuid(s.id, 0)), node(s.id, s.deleted, s.ports))
        // The MACs the DHCP host ignores: the live nodes' ones, and a version that moves when they do.
        const macs = fleet.macs()
        assert.deepEqual(macs, [...fleet.nodes.values()].filter((n) => !n.deleted).flatMap((n) => n.ports.map((p) => p.mac as string)).sort())
        if (macs.join() !== seen.macs.join()) assert.notEqual(fleet.portsVersion(), seen.version, "the MACs changed and their version did not")
        seen = { macs, version: fleet.portsVersion() }
        if (!s.look) continue
        const live = [...fleet.nodes.values()].filter((n) => !n.deleted)
        assert.deepEqual(fleet.portIds(), live.flatMap((n) => n.ports.map((p) => p.portId)).sort())
        for (let p = 0; p <= 60; p++) {
          const holder = live.find((n) => n.ports.some((q) => q.portId === uuid(p, 1)))
          assert.equal(fleet.findByPart("port", uuid(p, 1))?.nodeId, holder?.nodeId)
        }
      }
    },
  ), { numRuns: 300 })
})

test("allocations are found by uuid and by name on their live node, as nodes gain, lose and change them", () => {
  fc.assert(fc.property(
    fc.array(fc.record({ id: fc.nat(20), deleted: fc.boolean(), allocation: fc.option(fc.record({ a: fc.nat(40), name: fc.option(fc.nat(10), { nil: null }) }), { nil: null }) }), { maxLength: 60 }),
    (steps) => {
      const fleet = new Fleet()
      const replace = (fleet as unknown as { replace: (b: NodeState | undefined, a: NodeState) => void }).replace.bind(fleet)
      for (const s of steps) {
        const taken = (n: NodeState) => n.allocation !== null && s.allocation !== null &&
          (n.allocation.allocationId === uuid(s.allocation.a, 2) || (s.allocation.name !== null && n.allocation.name === `a-${s.allocation.name}`))
        // Uuids and names are unique: one taken elsewhere is released first (as the API requires).
        for (const other of [...fleet.nodes.values()]) if (other.nodeId !== uuid(s.id, 0) && taken(other)) replace(other, { ...other, allocation: null })
        const allocation = s.allocation === null ? null : { allocationId: uuid(s.allocation.a, 2), name: s.allocation.name === null ? null : `a-${s.allocation.name}` }
        replace(fleet.nodes.get(uuid(s.id, 0)), { ...node(s.id, s.deleted, []), allocation } as unknown as NodeState)
        const live = [...fleet.nodes.values()].filter((n) => !n.deleted && n.allocation !== null)
        assert.deepEqual([...fleet.allocated()].map((n) => n.nodeId).sort(), live.map((n) => n.nodeId).sort())
        for (let a = 0; a <= 40; a++) {
          assert.equal(fleet.findByPart("allocation", uuid(a, 2))?.nodeId, live.find((n) => n.allocation!.allocationId === uuid(a, 2))?.nodeId)
        }
        for (let name = 0; name <= 10; name++) {
          assert.equal(fleet.findByPart("allocation-name", `a-${name}`)?.nodeId, live.find((n) => n.allocation!.name === `a-${name}`)?.nodeId)
        }
      }
    },
  ), { numRuns: 300 })
})
