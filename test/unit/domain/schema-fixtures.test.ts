// Schema evolution stays safe (ADR 0032): every stored version of every event type, kept as a
// fixture, still decodes and upcasts with this build; and for random data of an old shape, the
// upcast gives what the current codec accepts.
import { test } from "node:test"
import assert from "node:assert/strict"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import fc from "fast-check"
import * as E from "fp-ts/lib/Either.js"
import { currentVersion, decodeEvent, encodeEvent, eventTypes } from "../../../src/domain/index.ts"

const dir = join(import.meta.dirname, "../../fixtures/events")

interface Fixture {
  readonly type: string
  readonly schemaVersion: number
  readonly data: unknown
  readonly meta: unknown
  readonly upcastTo?: unknown
}

const fixtures = new Map(readdirSync(dir).filter((f) => f.endsWith(".json"))
  .map((f) => [f, JSON.parse(readFileSync(join(dir, f), "utf8")) as Fixture]))

test("every version of every event type has a fixture", () => {
  const missing = eventTypes.flatMap((type) =>
    Array.from({ length: currentVersion(type) }, (_, i) => `${type}.v${i + 1}.json`).filter((f) => !fixtures.has(f)))
  assert.deepEqual(missing, [], "add a fixture for each new version (test/fixtures/events/README.md)")
})

test("every fixture decodes; old versions upcast to what they say, current ones encode back unchanged", () => {
  for (const [file, fixture] of fixtures) {
    assert.equal(file, `${fixture.type}.v${fixture.schemaVersion}.json`)
    const decoded = decodeEvent(fixture)
    assert.ok(E.isRight(decoded), `${file}: ${E.isLeft(decoded) ? decoded.left : ""}`)
    if (fixture.schemaVersion < currentVersion(decoded.right.type)) {
      assert.ok(fixture.upcastTo !== undefined, `${file} is an old version: say what it upcasts to`)
      assert.deepEqual(decoded.right.data, fixture.upcastTo, file)
    } else {
      assert.deepEqual(encodeEvent(decoded.right), { type: fixture.type, schemaVersion: fixture.schemaVersion, data: fixture.data }, file)
    }
  }
})

test("a version 1 refusal of any reason upcasts to a counted one", () => {
  fc.assert(fc.property(fc.string(), (reason) => {
    const decoded = decodeEvent({ type: "CallbackRejected", schemaVersion: 1, data: { reason } })
    assert.ok(E.isRight(decoded))
    assert.deepEqual(decoded.right.data, { reason, count: 1, sources: [] })
  }))
})

test("a version this build does not know is refused by name, never misread", () => {
  fc.assert(fc.property(fc.constantFrom(...eventTypes), fc.integer({ min: 1, max: 50 }), (type, ahead) => {
    const decoded = decodeEvent({ type, schemaVersion: currentVersion(type) + ahead, data: {} })
    assert.ok(E.isLeft(decoded) && decoded.left.includes(type) && decoded.left.includes("schema version"))
  }))
})
