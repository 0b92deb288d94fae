// The canonical encoding behind every hash (ADR 0030): RFC 8785 for any JSON value (checked
// against the reference implementation), stable under key order, and the chain steps fixed by
// known answers (computed independently from the documented encoding with Python's hashlib and
// json.dumps(sort_keys=True)), since a changed encoding would break every log ever written.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import canonicalize from "canonicalize"
import { canonicalJson, eventHash, GENESIS, logHash } from "../../src/application/hash-chain.ts"

test("canonicalJson is RFC 8785 (JCS) for well-formed JSON values", () => {
  fc.assert(fc.property(fc.jsonValue(), (value) => {
    assert.equal(canonicalJson(value), canonicalize(value))
  }), { numRuns: 500 })
})

test("canonicalJson ignores key order, and survives a JSON round trip", () => {
  fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), (object) => {
    const reversed = Object.fromEntries(Object.entries(object).reverse())
    assert.equal(canonicalJson(reversed), canonicalJson(object))
    assert.equal(canonicalJson(JSON.parse(JSON.stringify(object))), canonicalJson(object))
  }))
})

test("a lone surrogate is hashed as JSON.stringify escapes it, not refused", () => {
  assert.equal(canonicalJson({ s: "\ud800" }), '{"s":"\\ud800"}')
})

test("the chain steps give the same hashes as when the encoding was fixed", () => {
  const event = {
    streamId: "node-1", revision: 0, type: "Enrolled", schemaVersion: 1, data: { name: "a", n: 1.5 },
    meta: { occurredAt: "2026-01-01T00:00:00.000Z", actor: "admin", correlationId: "c", causationId: null },
  }
  const first = eventHash(GENESIS, event)
  assert.equal(first, "40d7c3a3ba64fb29081084a45647b3c46fd52f298345f50f42d01ad327262b2f")
  assert.equal(logHash(GENESIS, { position: 1, streamId: "node-1", revision: 0 }, first), "79eaf386eaa5656b3da9c0e9554530a31f42daefd81ddd079a8e00fdc40d34df")
  assert.notEqual(eventHash(first, { ...event, revision: 1 }), first)
})
