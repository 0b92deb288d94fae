// The Fleet projection and the history projection against the plain fold of random valid logs.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { Fleet, instanceUuidOf, type FleetSnapshot } from "../../src/application/projections/fleet.ts"
import { historyOf } from "../../src/application/projections/history.ts"
import { fold, initialState, type NodeState } from "../../src/domain/index.ts"
import { SEALED_MARK, type Pools } from "../support/arbitraries.ts"
import { fleetLogArb, type LoggedEvent } from "../support/fleet-log.ts"

const eventsOf = (log: ReadonlyArray<LoggedEvent>, nodeId: string) => log.filter((e) => e.nodeId === nodeId)

/** Each node of the log folded on its own: what every projection must agree with. */
const folded = (log: ReadonlyArray<LoggedEvent>, pools: ReadonlyArray<Pools>): Array<NodeState> =>
  pools.filter((p) => log.some((e) => e.nodeId === p.nodeId)).map((p) => fold(p.nodeId, eventsOf(log, p.nodeId)))

/** The fleet's answers to every query, for the nodes and keys the pools can produce. */
const answers = (fleet: Fleet, pools: ReadonlyArray<Pools>) => ({
  position: fleet.position,
  list: fleet.list(),
  counts: fleet.countsByState(),
  power: fleet.countsByPower(),
  maintenance: fleet.maintenanceCount(),
  macs: fleet.macs(),
  byId: pools.map((p) => fleet.get(p.nodeId)?.nodeId ?? null),
  byName: pools.flatMap((p) => p.names.map((n) => fleet.findByName(n)?.nodeId ?? null)),
  byMac: pools.flatMap((p) => p.macs.map((m) => fleet.findByMac(m)?.nodeId ?? null)),
  byInstance: pools.flatMap((p) => p.instanceIds.map((i) => fleet.findByInstance(i)?.nodeId ?? null)),
})

/** The same answers, computed from the folds directly. */
const expectedAnswers = (nodes: ReadonlyArray<NodeState>, pools: ReadonlyArray<Pools>, position: number) => {
  const live = nodes.filter((n) => !n.deleted)
  const owner = (has: (n: NodeState) => boolean) => live.find(has)?.nodeId ?? null
  const counts: Record<string, number> = {}
  for (const n of live) counts[n.provisionState] = (counts[n.provisionState] ?? 0) + 1
  const power: Record<string, number> = {}
  for (const n of live) power[n.powerState ?? "None"] = (power[n.powerState ?? "None"] ?? 0) + 1
  return {
    position,
    list: [...live].sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1)),
    counts: Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b))),
    power: Object.fromEntries(Object.entries(power).sort(([a], [b]) => a.localeCompare(b))),
    maintenance: live.filter((n) => n.maintenance).length,
    macs: live.flatMap((n) => n.ports.map((p) => p.mac as string)).sort(),
    byId: pools.map((p) => owner((n) => n.nodeId === p.nodeId)),
    byName: pools.flatMap((p) => p.names.map((name) => owner((n) => n.name === name))),
    byMac: pools.flatMap((p) => p.macs.map((mac) => owner((n) => n.ports.some((port) => port.mac === mac)))),
    byInstance: pools.flatMap((p) => p.instanceIds.map((i) => owner((n) => instanceUuidOf(n) === i))),
  }
}

/** Redeliveries: after the i-th event of the log, deliver event j again (earlier, or later: a gap). */
const redeliveries = fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 40 })

test("the fleet, fed the log with stray redeliveries, equals the fold of each node's events", () => {
  fc.assert(
    fc.property(fleetLogArb(), redeliveries, ({ pools, log }, extra) => {
      const fleet = new Fleet()
      const strays = new Map<number, Array<number>>()
      for (const [after, which] of extra) {
        if (log.length > 0) strays.set(after % log.length, [...(strays.get(after % log.length) ?? []), which % log.length])
      }
      log.forEach((e, i) => {
        assert.equal(fleet.apply(e.nodeId, e, e.position), true, "a node's next event or one already applied is taken")
        for (const j of strays.get(i) ?? []) {
          const stray = log[j]!
          const before = fleet.nodes.get(stray.nodeId)
          const revision = before?.revision ?? -1
          const taken = fleet.apply(stray.nodeId, stray)
          // Already applied: skipped. Next in line: applied. Beyond: refused, so the caller catches up.
          assert.equal(taken, stray.revision <= revision + 1, `event ${j} (revision ${stray.revision}) at node revision ${revision}`)
          if (stray.revision !== revision + 1) assert.equal(fleet.nodes.get(stray.nodeId), before, "a skipped event changes nothing")
        }
      })
      const nodes = folded(log, pools)
      for (const n of nodes) assert.deepEqual(fleet.nodes.get(n.nodeId), n)
      assert.deepEqual(answers(fleet, pools), expectedAnswers(nodes, pools, log.at(-1)?.position ?? -1))
    }),
    { numRuns: 200 },
  )
})

test("a fleet restored from its JSON snapshot equals the live one, and goes on folding the same way", () => {
  fc.assert(
    fc.property(fleetLogArb(), fc.nat(), ({ pools, log }, cutAt) => {
      const cut = log.length === 0 ? 0 : cutAt % (log.length + 1)
      const live = new Fleet()
      for (const e of log.slice(0, cut)) {
        live.apply(e.nodeId, e, e.position)
        // Every state a node passes through must survive the snapshot's JSON, not just the last one.
        const state = live.nodes.get(e.nodeId)
        assert.deepEqual(JSON.parse(JSON.stringify(state)), state, `after ${e.event.type}`)
      }
      const restored = Fleet.restore(JSON.parse(JSON.stringify(live.snapshot())) as FleetSnapshot)
      assert.deepEqual(restored.snapshot(), live.snapshot())
      assert.deepEqual(answers(restored, pools), answers(live, pools))
      for (const e of log.slice(cut)) {
        live.apply(e.nodeId, e, e.position)
        restored.apply(e.nodeId, e, e.position)
        const state = live.nodes.get(e.nodeId)
        assert.deepEqual(JSON.parse(JSON.stringify(state)), state, `after ${e.event.type}`)
      }
      assert.deepEqual(answers(restored, pools), answers(live, pools))
      assert.deepEqual(restored.snapshot(), live.snapshot())
    }),
    { numRuns: 200 },
  )
})

test("a node's history has one entry per event, in revision order, in step with the fold, without sealed secrets", () => {
  let sealedSeen = 0
  fc.assert(
    fc.property(fleetLogArb(), ({ pools, log }) => {
      for (const { nodeId } of pools) {
        const events = eventsOf(log, nodeId)
        const history = historyOf(nodeId, events)
        assert.equal(history.length, events.length)
        let state = initialState(nodeId)
        history.forEach((entry, i) => {
          const e = events[i]!
          state = fold(nodeId, events.slice(0, i + 1))
          assert.deepEqual(
            [entry.revision, entry.position, entry.event, entry.occurredAt, entry.actor, entry.provisionState],
            [i, e.position, e.event.type, e.meta.occurredAt, e.meta.actor, state.provisionState],
          )
        })
        if (JSON.stringify(events).includes(SEALED_MARK)) sealedSeen++
        const text = JSON.stringify(history)
        assert.ok(!text.includes(SEALED_MARK), `a sealed value reached the history: ${text.slice(text.indexOf(SEALED_MARK) - 80, text.indexOf(SEALED_MARK) + 40)}`)
      }
    }),
    { numRuns: 200 },
  )
  // Guards against a generator that never puts a secret into the log.
  assert.ok(sealedSeen > 50, `only ${sealedSeen} histories held sealed values`)
})
