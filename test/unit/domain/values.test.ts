// Value objects: what each accepts, the canonical form it keeps, and what it refuses.
import { describe, test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import * as E from "fp-ts/lib/Either.js"
import { Iqn, Mac, NodeName, NonNegativeInt, parseMac, parseUuid, PortNumber, Uuid } from "../../../src/domain/index.ts"

const right = <A>(e: E.Either<string, A>): A => {
  if (E.isLeft(e)) assert.fail(e.left)
  return e.right
}

describe("MAC address", () => {
  test("colons, dashes and upper case all give the canonical lowercase, colon-separated form", () => {
    for (const spelling of ["52:54:00:AB:cd:EF", "52-54-00-ab-cd-ef", "52-54-00-AB-CD-EF", "  52:54:00:ab:cd:ef\n"]) {
      assert.equal(right(parseMac(spelling)), "52:54:00:ab:cd:ef", spelling)
    }
  })

  test("any six bytes, however spelled, parse back to the same canonical MAC", () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.constantFrom(":", "-"), fc.boolean(),
      (bytes, separator, upper) => {
        const canonical = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":")
        const spelled = canonical.replaceAll(":", separator)
        assert.equal(right(parseMac(upper ? spelled.toUpperCase() : spelled)), canonical)
      },
    ))
  })

  test("refuses anything but six two-digit hex groups, and says what it got", () => {
    for (const bad of ["", "52:54:00:ab:cd", "52:54:00:ab:cd:ef:01", "5254.00ab.cdef", "525400abcdef", "52:54:00:ab:cd:eg", "52:54:00:ab:cd:e"]) {
      const parsed = parseMac(bad)
      assert.ok(E.isLeft(parsed), bad)
      assert.equal(parsed.left, `"${bad}" is not a valid MAC address`)
    }
  })

  test("the codec itself admits only the canonical form", () => {
    assert.equal(Mac.is("52:54:00:ab:cd:ef"), true)
    assert.equal(Mac.is("52:54:00:AB:CD:EF"), false)
    assert.equal(Mac.is("52-54-00-ab-cd-ef"), false)
  })
})

describe("UUID", () => {
  test("is read in any case and kept in lower case", () => {
    assert.equal(right(parseUuid("6F1C2A7E-3B4D-4E5F-8A9B-0C1D2E3F4A5B")), "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b")
  })

  test("refuses other shapes", () => {
    for (const bad of ["", "6f1c2a7e3b4d4e5f8a9b0c1d2e3f4a5b", "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5", "{6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b}", "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5g"]) {
      assert.ok(E.isLeft(parseUuid(bad)), bad)
    }
    assert.equal(Uuid.is("6F1C2A7E-3B4D-4E5F-8A9B-0C1D2E3F4A5B"), false, "the codec keeps only the canonical form")
  })
})

describe("iSCSI qualified name", () => {
  test("accepts iqn.yyyy-mm.reversed.domain with an optional identifier", () => {
    for (const ok of ["iqn.2008-10.org.openstack", "iqn.2008-10.org.openstack:6f1c2a7e-3b4d", "iqn.2024-01.net.example:disk.0_A"]) {
      assert.equal(Iqn.is(ok), true, ok)
    }
  })

  test("refuses other forms, upper-case domains, unsafe identifiers and names over 223 characters", () => {
    for (const bad of ["", "eui.02004567A425678D", "iqn.08-10.org.openstack", "iqn.2008-10.Org.openstack", "iqn.2008-10.org.openstack:a b",
      "iqn.2008-10.org.openstack:x;rm", `iqn.2008-10.org.example:${"a".repeat(200)}`]) {
      assert.equal(Iqn.is(bad), false, bad)
    }
    const longest = `iqn.2008-10.org.example:${"a".repeat(223 - 24)}`
    assert.equal(longest.length, 223)
    assert.equal(Iqn.is(longest), true)
  })
})

describe("node name", () => {
  test("accepts RFC 3986 unreserved characters, 1 to 255 of them", () => {
    for (const ok of ["node-1", "rack1.slot_2~a", "N", "a".repeat(255)]) assert.equal(NodeName.is(ok), true, ok)
  })

  test("refuses a name that reads as a UUID, in any case, since names and UUIDs share the API's node slot", () => {
    assert.equal(NodeName.is("6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"), false)
    assert.equal(NodeName.is("6F1C2A7E-3B4D-4E5F-8A9B-0C1D2E3F4A5B"), false)
  })

  test("refuses empty, too long, and reserved characters", () => {
    for (const bad of ["", "a".repeat(256), "rack 1", "a/b", "node?x", "nœud"]) assert.equal(NodeName.is(bad), false, bad)
  })
})

describe("numbers", () => {
  test("NonNegativeInt is a safe whole number from 0", () => {
    for (const ok of [0, 1, Number.MAX_SAFE_INTEGER]) assert.equal(NonNegativeInt.is(ok), true)
    for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1, "1"]) assert.equal(NonNegativeInt.is(bad), false, String(bad))
  })

  test("PortNumber is 1 to 65535", () => {
    for (const ok of [1, 3260, 65535]) assert.equal(PortNumber.is(ok), true)
    for (const bad of [0, 65536, 80.5, -1]) assert.equal(PortNumber.is(bad), false, String(bad))
  })
})
