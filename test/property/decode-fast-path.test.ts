// decodeEvent accepts valid data through the codecs' `is` and returns it as is (ADR 0115): that is
// only right while every event codec is the identity on valid data and `is` agrees with `decode`.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import * as E from "fp-ts/lib/Either.js"
import { decodeEvent, encodeEvent, eventData } from "../../src/domain/index.ts"
import { fleetLogArb } from "../support/fleet-log.ts"

const codecOf = (type: string) => eventData[type as keyof typeof eventData] as unknown as import("io-ts").Type<unknown, unknown, unknown>

test("every logged event's data passes `is`, and io-ts decode gives back the same data", () => {
  fc.assert(
    fc.property(fleetLogArb(), ({ log }) => {
      for (const { event } of log) {
        const data = JSON.parse(JSON.stringify(encodeEvent(event).data)) as unknown
        const codec = codecOf(event.type)
        assert.ok(codec.is(data), `${event.type} fails is()`)
        const decoded = codec.decode(data)
        assert.ok(E.isRight(decoded))
        assert.deepEqual(decoded.right, data, `${event.type}: decode is not the identity`)
      }
    }),
    { numRuns: 100 },
  )
})

test("data that breaks a field is refused by is() and decode alike, with decode's reason", () => {
  fc.assert(
    fc.property(fleetLogArb(), fc.nat(), ({ log }, pick) => {
      // Free-form data (a ramdisk's report: an UnknownRecord) admits any value in any field.
      const withFields = log.filter((e) => Object.keys(e.event.data).length > 0 && codecOf(e.event.type).name !== "UnknownRecord")
      if (withFields.length === 0) return
      const { event } = withFields[pick % withFields.length]!
      const data = JSON.parse(JSON.stringify(event.data)) as Record<string, unknown>
      const field = Object.keys(data)[pick % Object.keys(data).length]!
      // A symbol is no JSON value: no field of any event admits it.
      data[field] = Symbol("not data")
      const result = decodeEvent({ type: event.type, schemaVersion: encodeEvent(event).schemaVersion, data })
      assert.equal(codecOf(event.type).is(data), false)
      assert.ok(E.isLeft(result), `${event.type}.${field} accepted a symbol`)
      assert.match(result.left, /Invalid value/)
    }),
    { numRuns: 200 },
  )
})

test("an unknown event type is refused by name", () => {
  const result = decodeEvent({ type: "NoSuchEvent", schemaVersion: 1, data: {} })
  assert.deepEqual(result, E.left(`unknown event type "NoSuchEvent"`))
})
