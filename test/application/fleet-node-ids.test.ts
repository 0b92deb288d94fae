// A node first met in the log (a start-up without a checkpoint, another conductor's enroll) keeps
// an id of its own: the id cut from the stream's name must not keep the whole name alive.
import { test } from "node:test"
import assert from "node:assert/strict"
import { randomUUID } from "node:crypto"
import { nodeIdOf } from "../../src/application/event-codec.ts"
import { Fleet } from "../../src/application/projections/fleet.ts"
import type { NodeState } from "../../src/domain/index.ts"
import { enrolled } from "../unit/domain/scenario.ts"
import { copiesInHeap } from "../support/heap-copies.ts"

/** A node's first event as a log's reader hands it over: the id a slice of the stream's name. */
const firstEvent = (fleet: Fleet, own: Set<NodeState> | null): void => {
  const stream = JSON.parse(JSON.stringify(`node-${randomUUID()}`)) as string
  const nodeId = nodeIdOf(stream)!
  const event = { ...enrolled, data: { ...enrolled.data, nodeId } } as typeof enrolled
  const recorded = { event, revision: 0, meta: { occurredAt: "2031-01-01T00:00:00.000Z", actor: "spec", correlationId: "op", causationId: null } }
  if (own === null) fleet.apply(nodeId, recorded)
  else fleet.applyUnshared(nodeId, recorded, own)
}

test("the fleet keeps no stream name alive through the ids of the nodes it met in the log", async () => {
  const fleet = new Fleet()
  const own = new Set<NodeState>()
  for (let i = 0; i < 10; i++) firstEvent(fleet, null)
  for (let i = 0; i < 10; i++) firstEvent(fleet, own)
  fleet.endUnshared(own)
  const ids = [...fleet.nodes.keys()]
  assert.equal(ids.length, 20)
  assert.deepEqual(fleet.list().map((n) => n.nodeId), [...ids].sort())
  const copies = await copiesInHeap(ids.map((id) => `node-${id}`))
  assert.deepEqual(copies, ids.map(() => 0), "stream names held by the fleet")
})
