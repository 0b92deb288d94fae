// Texts a fleet repeats on every node are kept once: counted in a heap snapshot, because strings
// compare by value and only the heap tells one copy from thirty.
import { test } from "node:test"
import assert from "node:assert/strict"
import { randomUUID } from "node:crypto"
import fc from "fast-check"
import { evolve, initialState, noItems, type EventMeta, type NodeEvent, type NodeState, type Uuid } from "../../../src/domain/index.ts"
import { textOrShared } from "../../../src/domain/shared-values.ts"
import { available, spec } from "./scenario.ts"
import { copiesInHeap } from "../../support/heap-copies.ts"

/** Each node's events as decoded from a log: every string in them a copy of its own. */
const decodedCopy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

/** `nodes` nodes through to a deploy, each from events of its own, as a log's reader decodes them. */
const foldedNodes = (nodes: number, driver: string, imageKind: string, time: string): Array<NodeState> => {
  const lifecycle: ReadonlyArray<NodeEvent> = [
    ...available,
    { type: "PowerOnRequested", data: { step: "power" } },
    { type: "PowerStateChanged", data: { powerState: "power on", step: "power", durationMs: 0 } },
    { type: "DeployRequested", data: { ...spec({ imageKind: imageKind as "partition" }), rebuild: false } },
  ]
  const states: Array<NodeState> = []
  for (let n = 0; n < nodes; n++) {
    const nodeId = randomUUID() as Uuid
    let s = initialState(nodeId)
    for (const [i, event] of lifecycle.entries()) {
      const e = decodedCopy(event.type === "Enrolled" ? { ...event, data: { ...event.data, nodeId, driver } } : event)
      const meta: EventMeta = decodedCopy({ occurredAt: time, actor: "spec", correlationId: `op-${n}-${i}`, causationId: null })
      s = evolve(s, e, meta)
    }
    states.push(s)
  }
  return states
}

test("folded nodes share one copy of their hardware type, image kind and event time", async () => {
  const nodes = 30
  const driver = `driver-${randomUUID()}`
  const imageKind = `kind-${randomUUID()}`
  const time = new Date(Date.UTC(2031, 0, 1, 0, 0, 0, Math.floor(Math.random() * 1e6))).toISOString()
  // Folded in a function of its own: its last event is not left in this one's frame at the snapshot.
  const states = foldedNodes(nodes, driver, imageKind, time)
  assert.equal(states[0]!.deploy?.imageKind, imageKind)
  assert.equal(states[0]!.instanceInfo["image_type"], imageKind)
  assert.equal(states[0]!.operation?.startedAt, time)
  // Lists emptied by an event, or begun empty, are the one shared empty list.
  assert.equal(states[0]!.pendingSteps, noItems)
  assert.equal(states[0]!.operation?.steps, noItems)
  const [drivers, kinds, times] = await copiesInHeap([driver, imageKind, time])
  // One kept copy, and the test's own.
  assert.ok(drivers! <= 2, `${drivers} copies of the hardware type for ${nodes} nodes`)
  assert.ok(kinds! <= 2, `${kinds} copies of the image kind for ${nodes} nodes`)
  // One per node (its first event's), and the test's own: not one per event that set a time.
  assert.ok(times! <= nodes + 1, `${times} copies of the event time for ${nodes} nodes`)
  assert.equal(states.length, nodes)
})

test("a shared text is always equal to the text given", () => {
  fc.assert(fc.property(fc.string(), (text) => {
    assert.equal(textOrShared(text), text)
    assert.equal(textOrShared(decodedCopy(text)), text)
  }), { numRuns: 300 })
})

test("a deploy's state holds every field of its request, the optional ones only when asked", () => {
  const optional = fc.record({
    configDrive: fc.record({ sha256: fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 }), bytes: fc.nat() }),
    deploySteps: fc.array(fc.record({ interface: fc.constantFrom("bios", "raid"), step: fc.string({ minLength: 1, maxLength: 8 }), priority: fc.nat(100), args: fc.constant({}) }), { maxLength: 2 }),
  }, { requiredKeys: [] })
  const asked = fc.record({
    imageKind: fc.constantFrom("partition", "whole-disk"), rootGb: fc.nat(), swapMb: fc.nat(), ephemeralGb: fc.nat(),
    preserveEphemeral: fc.boolean(), imageSource: fc.webUrl(), keyHash: fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 }),
  })
  fc.assert(fc.property(asked, optional, fc.boolean(), (fields, extra, rebuild) => {
    const request = { ...spec(fields as Parameters<typeof spec>[0]), ...extra, rebuild } as Extract<NodeEvent, { type: "DeployRequested" }>["data"]
    const before = foldedNodes(1, "ipmi", "partition", "2031-01-01T00:00:00.000Z")[0]!
    const after = evolve(before, { type: "DeployRequested", data: request }, { occurredAt: "2031-01-01T00:00:01.000Z", actor: "spec", correlationId: "op", causationId: null })
    assert.deepEqual(after.deploy, { ...request, iscsi: null, callbackUsed: false, rootUuid: null, imageWritten: false })
  }), { numRuns: 200 })
})
