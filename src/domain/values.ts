// Value objects: branded io-ts codecs that only admit valid values. Input from the API, the CSV
// importer and the ramdisk passes through these before it reaches the aggregate.
import * as t from "io-ts"
import * as E from "fp-ts/lib/Either.js"
import { pipe } from "fp-ts/lib/function.js"
import { PathReporter } from "io-ts/lib/PathReporter.js"

interface UuidBrand { readonly Uuid: unique symbol }
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
/** A lowercase RFC 4122 textual UUID. */
export const Uuid = t.brand(t.string, (s): s is t.Branded<string, UuidBrand> => uuidPattern.test(s), "Uuid")
export type Uuid = t.TypeOf<typeof Uuid>

interface MacBrand { readonly Mac: unique symbol }
const macPattern = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/
/** A MAC address in canonical form: lowercase, colon separated. */
export const Mac = t.brand(t.string, (s): s is t.Branded<string, MacBrand> => macPattern.test(s), "Mac")
export type Mac = t.TypeOf<typeof Mac>

/** Accepts the common spellings (colons, dashes, upper case) and returns the canonical MAC. */
export const parseMac = (input: string): E.Either<string, Mac> => {
  const canonical = input.trim().toLowerCase().replace(/-/g, ":")
  return Mac.is(canonical) ? E.right(canonical) : E.left(`"${input}" is not a valid MAC address`)
}

export const parseUuid = (input: string): E.Either<string, Uuid> => {
  const lower = input.trim().toLowerCase()
  return Uuid.is(lower) ? E.right(lower) : E.left(`"${input}" is not a valid UUID`)
}

interface IqnBrand { readonly Iqn: unique symbol }
// RFC 3720 iqn.yyyy-mm.reversed.domain[:identifier]; identifiers are limited to a safe set.
const iqnPattern = /^iqn\.\d{4}-\d{2}\.[a-z0-9][a-z0-9.-]*(:[a-zA-Z0-9.:_-]+)?$/
export const Iqn = t.brand(
  t.string,
  (s): s is t.Branded<string, IqnBrand> => s.length <= 223 && iqnPattern.test(s),
  "Iqn",
)
export type Iqn = t.TypeOf<typeof Iqn>

interface NodeNameBrand { readonly NodeName: unique symbol }
// Ironic allows RFC 3986 unreserved characters; a name that parses as a UUID would be ambiguous.
const namePattern = /^[A-Za-z0-9._~-]{1,255}$/
export const NodeName = t.brand(
  t.string,
  (s): s is t.Branded<string, NodeNameBrand> => namePattern.test(s) && !uuidPattern.test(s.toLowerCase()),
  "NodeName",
)
export type NodeName = t.TypeOf<typeof NodeName>

interface NonNegativeIntBrand { readonly NonNegativeInt: unique symbol }
export const NonNegativeInt = t.brand(
  t.number,
  (n): n is t.Branded<number, NonNegativeIntBrand> => Number.isSafeInteger(n) && n >= 0,
  "NonNegativeInt",
)
export type NonNegativeInt = t.TypeOf<typeof NonNegativeInt>

interface PortNumberBrand { readonly PortNumber: unique symbol }
export const PortNumber = t.brand(
  t.number,
  (n): n is t.Branded<number, PortNumberBrand> => Number.isInteger(n) && n > 0 && n < 65536,
  "PortNumber",
)
export type PortNumber = t.TypeOf<typeof PortNumber>

/** Decodes with a codec and turns io-ts's error list into one readable sentence. */
export const decodeWith = <A, O>(codec: t.Type<A, O, unknown>, input: unknown): E.Either<string, A> =>
  pipe(
    codec.decode(input),
    E.mapLeft((errors) => PathReporter.report(E.left(errors)).join("; ")),
  )
