// Reading persisted events: known types at versions this build reads, upcast step by step to the
// current shape, then checked by the event's codec.
import { afterEach, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as E from "fp-ts/lib/Either.js"
import { decodeEvent, encodeEvent, schemaVersions, upcasters, type NodeEvent } from "../../../src/domain/index.ts"

const decoded = (p: Parameters<typeof decodeEvent>[0]): NodeEvent => {
  const r = decodeEvent(p)
  if (E.isLeft(r)) assert.fail(r.left)
  return r.right
}

const refused = (p: Parameters<typeof decodeEvent>[0]): string => {
  const r = decodeEvent(p)
  if (E.isRight(r)) assert.fail(`expected a refusal, got ${JSON.stringify(r.right)}`)
  return r.left
}

const portAdded: NodeEvent = {
  type: "PortAdded",
  data: { portId: "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b" as never, mac: "52:54:00:12:34:56" as never },
}

describe("an event of the current version", () => {
  test("is written with its type and version, and read back as it was", () => {
    const persisted = encodeEvent(portAdded)
    assert.deepEqual(persisted, { type: "PortAdded", schemaVersion: 1, data: portAdded.data })
    assert.deepEqual(decoded(JSON.parse(JSON.stringify(persisted))), portAdded)
  })

  test("whose data does not fit its codec is refused, naming the field", () => {
    assert.match(refused({ type: "PortAdded", schemaVersion: 1, data: { ...portAdded.data, mac: "52-54-00-12-34-56" } }), /mac/)
  })
})

describe("what this build can not read", () => {
  test("an unknown type is refused", () => {
    assert.equal(refused({ type: "NodeTeleported", schemaVersion: 1, data: {} }), `unknown event type "NodeTeleported"`)
    assert.match(refused({ type: "toString", schemaVersion: 1, data: {} }), /unknown event type/)
  })

  test("a version from a newer build is refused, as are versions that never existed", () => {
    assert.equal(refused({ ...encodeEvent(portAdded), schemaVersion: 2 }), "event PortAdded has schema version 2; this build reads 1..1")
    for (const v of [0, -1, 1.5, Number.NaN]) assert.match(refused({ ...encodeEvent(portAdded), schemaVersion: v }), /schema version/)
  })
})

describe("an old version", () => {
  // A pretend history of MaintenanceSet: v1 said {why}, v2 {note}, v3 (current here) {reason}.
  afterEach(() => {
    delete schemaVersions.MaintenanceSet
    delete upcasters.MaintenanceSet
  })
  const evolveMaintenanceSet = () => {
    schemaVersions.MaintenanceSet = 3
    upcasters.MaintenanceSet = {
      1: (d) => ({ note: (d as { why: string }).why }),
      2: (d) => ({ reason: (d as { note: string }).note }),
    }
  }

  test("is upcast step by step to the current shape", () => {
    evolveMaintenanceSet()
    const expected = { type: "MaintenanceSet", data: { reason: "fan replaced" } }
    assert.deepEqual(decoded({ type: "MaintenanceSet", schemaVersion: 1, data: { why: "fan replaced" } }), expected)
    assert.deepEqual(decoded({ type: "MaintenanceSet", schemaVersion: 2, data: { note: "fan replaced" } }), expected)
    assert.deepEqual(decoded({ type: "MaintenanceSet", schemaVersion: 3, data: { reason: "fan replaced" } }), expected)
  })

  test("new events are written at the current version", () => {
    evolveMaintenanceSet()
    assert.equal(encodeEvent({ type: "MaintenanceSet", data: { reason: null } }).schemaVersion, 3)
  })

  test("with a missing upcaster step is refused, not read half-way", () => {
    evolveMaintenanceSet()
    delete upcasters.MaintenanceSet![1]
    assert.equal(refused({ type: "MaintenanceSet", schemaVersion: 1, data: { why: "x" } }), "no upcaster for MaintenanceSet from version 1")
  })

  test("whose upcast result does not fit the current codec is refused", () => {
    evolveMaintenanceSet()
    assert.match(refused({ type: "MaintenanceSet", schemaVersion: 2, data: { why: "wrong field for v2" } }), /reason/)
  })
})
