// The fleet's port index (the ports API's lookups and pages): after any sequence of nodes gaining,
// losing and moving ports and being deleted, a port is found on the live node that holds it, and the
// ordered port uuids are exactly the live nodes' ports, sorted.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { Fleet } from "../../src/application/projections/fleet.ts"
import type { NodeState } from "../../src/domain/index.ts"

const uuid = (n: number, kind: number) => `${n.toString(16).padStart(8, "0")}-000${kind}-4000-8000-000000000000`
const node = (id: number, deleted: boolean, ports: ReadonlyArray<number>) => ({
  nodeId: uuid(id, 0), deleted, name: null, instanceInfo: {}, instanceUuid: null, provisionState: "manageable", revision: 0,
  ports: ports.map((p) => ({ portId: uuid(p, 1), mac: `52:54:00:00:${(p >> 8).toString(16).padStart(2, "0")}:${(p & 255).toString(16).padStart(2, "0")}` })),
}) as unknown as NodeState

test("ports are found on their live node, and listed in order, as nodes gain, lose and move ports", () => {
  fc.assert(fc.property(
    fc.array(fc.record({ id: fc.nat(30), deleted: fc.boolean(), ports: fc.uniqueArray(fc.nat(60), { maxLength: 3 }), look: fc.boolean() }), { maxLength: 60 }),
    (steps) => {
      const fleet = new Fleet()
      const replace = (fleet as unknown as { replace: (b: NodeState | undefined, a: NodeState) => void }).replace.bind(fleet)
      for (const s of steps) {
        // A port moves to the new node: it leaves the node that held it first (as the domain requires).
        for (const other of [...fleet.nodes.values()]) {
          const kept = other.ports.filter((p) => !s.ports.some((q) => uuid(q, 1) === p.portId))
          if (other.nodeId !== uuid(s.id, 0) && kept.length !== other.ports.length) replace(other, { ...other, ports: kept })
        }
        replace(fleet.nodes.get(uuid(s.id, 0)), node(s.id, s.deleted, s.ports))
        if (!s.look) continue
        const live = [...fleet.nodes.values()].filter((n) => !n.deleted)
        assert.deepEqual(fleet.portIds(), live.flatMap((n) => n.ports.map((p) => p.portId)).sort())
        for (let p = 0; p <= 60; p++) {
          const holder = live.find((n) => n.ports.some((q) => q.portId === uuid(p, 1)))
          assert.equal(fleet.findByPort(uuid(p, 1))?.nodeId, holder?.nodeId)
        }
      }
    },
  ), { numRuns: 300 })
})
