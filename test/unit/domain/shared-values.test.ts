// Shared field maps: equal flat maps of an enroll come back as one frozen copy, and never as a map
// that differs from the one given (keys, order, values, the type of each value).
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { fieldsOrShared, noFields } from "../../../src/domain/shared-values.ts"

test("shared maps: equal flat maps share one frozen copy; the map given is left as it was", () => {
  const a = { bios: "no-bios", boot: "fake", power: "fake" }
  const b = { bios: "no-bios", boot: "fake", power: "fake" }
  const sa = fieldsOrShared(a), sb = fieldsOrShared(b)
  assert.equal(sa, sb)
  assert.deepEqual(sa, a)
  assert.ok(Object.isFrozen(sa))
  assert.ok(!Object.isFrozen(a) && !Object.isFrozen(b))
  assert.throws(() => { (sa as Record<string, string>)["boot"] = "pxe" }, TypeError)
  assert.equal(fieldsOrShared({}), noFields)
  assert.equal(fieldsOrShared(sa), sa)
})

test("shared maps: maps that differ in key order, value type or sign of zero are not shared", () => {
  const pairs: ReadonlyArray<readonly [object, object]> = [
    [{ a: "1", b: "2" }, { b: "2", a: "1" }],
    [{ cpus: 1 }, { cpus: "1" }],
    [{ x: true }, { x: "t" }],
    [{ x: null }, { x: "z" }],
    [{ z: 0 }, { z: -0 }],
    // The text of a map must not be readable as another map's.
    [{ a: "1:bs0:" }, { a: "", b: "" }],
  ]
  for (const [x, y] of pairs) {
    const sx = fieldsOrShared(x), sy = fieldsOrShared(y)
    assert.notEqual(sx, sy, `${JSON.stringify(x)} shared with ${JSON.stringify(y)}`)
    assert.deepEqual(Object.entries(sx), Object.entries(x))
    assert.ok(Object.is((sy as Record<string, unknown>)["z"], (y as Record<string, unknown>)["z"]))
  }
})

test("shared maps: nested or large maps are kept as given", () => {
  const nested = { capabilities: { boot_mode: "uefi" } }
  assert.equal(fieldsOrShared(nested), nested)
  const large = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i]))
  assert.equal(fieldsOrShared(large), large)
})

test("shared maps: whatever the map, the answer stringifies to the same JSON and shares only equal maps", () => {
  const scalar = fc.oneof(fc.string({ maxLength: 6 }), fc.integer({ min: -3, max: 3 }), fc.constantFrom(0, -0, 1.5, true, false, null))
  const map = fc.dictionary(fc.string({ maxLength: 4 }), scalar, { maxKeys: 5 })
  fc.assert(fc.property(map, map, (x, y) => {
    const sx = fieldsOrShared(x), sy = fieldsOrShared(y)
    assert.equal(JSON.stringify(sx), JSON.stringify(x))
    assert.equal(JSON.stringify(sy), JSON.stringify(y))
    if (sx === sy) assert.deepEqual(Object.entries(sx), Object.entries(y))
  }), { numRuns: 2000 })
})
