// GET /v1/nodes pages walked over the fleet's kept UUID order equal the whole fleet sorted and
// filtered, however nodes are added and deleted between pages.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { Fleet } from "../../src/application/projections/fleet.ts"
import type { NodeState } from "../../src/domain/index.ts"

const node = (id: number, deleted: boolean, even: boolean) => ({
  nodeId: `${id.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`, deleted, name: null, ports: [], instanceInfo: {},
  instanceUuid: null, allocation: null, portgroups: [], volumeConnectors: [], volumeTargets: [], provisionState: even ? "available" : "enroll", revision: 0,
}) as unknown as NodeState

/** What the list did before: every live node sorted, filtered, then the slice after the marker. */
const reference = (fleet: Fleet, matches: (n: NodeState) => boolean, limit: number, marker?: string) => {
  const live = [...fleet.nodes.values()].filter((n) => !n.deleted).sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1))
  const at = marker === undefined ? -1 : live.findIndex((n) => n.nodeId === marker)
  return live.slice(at + 1).filter(matches).slice(0, limit)
}

test("a page from the kept order equals the fleet sorted and filtered, as nodes come and go", () => {
  fc.assert(fc.property(
    fc.array(fc.record({ id: fc.nat(500), deleted: fc.boolean(), list: fc.boolean(), limit: fc.integer({ min: 1, max: 20 }), marker: fc.option(fc.nat(500), { nil: undefined }), onlyEven: fc.boolean() }), { maxLength: 60 }),
    (steps) => {
      const fleet = new Fleet()
      for (const s of steps) {
        const n = node(s.id, s.deleted, s.id % 2 === 0)
        ;(fleet as unknown as { replace: (b: NodeState | undefined, a: NodeState) => void }).replace(fleet.nodes.get(n.nodeId), n)
        if (!s.list) continue
        const matches = (x: NodeState) => !s.onlyEven || x.provisionState === "available"
        const marker = s.marker === undefined ? undefined : node(s.marker, false, true).nodeId
        assert.deepEqual(fleet.page(matches, s.limit, marker).map((x) => x.nodeId), reference(fleet, matches, s.limit, marker).map((x) => x.nodeId))
      }
    },
  ), { numRuns: 300 })
})
