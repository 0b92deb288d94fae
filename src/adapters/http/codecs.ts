// io-ts codecs for every payload the API accepts. Bodies are decoded here, into the domain's
// value objects, before anything reaches the application; unknown fields are refused, not dropped.
import * as t from "io-ts"
import * as E from "fp-ts/lib/Either.js"
import { isIP } from "node:net"
import { Driver, Iqn, Mac, NodeName, NonNegativeInt, PortNumber, Uuid, interfaceSlots, type InterfaceSlot } from "../../domain/index.ts"
import { badRequest } from "./errors.ts"

/** Decodes or throws a 400 whose message names the offending field and what was expected. */
export const decodeOrThrow = <A>(codec: t.Decoder<unknown, A>, input: unknown, what: string): A => {
  const result = codec.decode(input)
  if (E.isRight(result)) return result.right
  throw badRequest(`Invalid ${what}: ${report(result.left)}`)
}

const report = (errors: t.Errors): string => {
  const lines = errors.slice(0, 3).map((e) => {
    if (e.message !== undefined) return e.message
    const path = e.context.map((c) => c.key).filter((k) => k !== "" && !/^\d+$/.test(k)).join(".")
    const expected = e.context[e.context.length - 1]?.type.name ?? "a valid value"
    const got = JSON.stringify(e.value)
    return `${path === "" ? "value" : path} must be ${expected}, got ${got === undefined ? "nothing" : got.slice(0, 60)}`
  })
  return [...new Set(lines)].join("; ")
}

/** An object codec that refuses keys it does not know, as Ironic's JSON schemas do. */
export const strict = <R extends t.Props, O extends t.Props>(required: R, optional: O, name: string) => {
  const known = new Set([...Object.keys(required), ...Object.keys(optional)])
  const shape = t.intersection([t.type(required), t.partial(optional)])
  return new t.Type<t.TypeOf<typeof shape>, unknown, unknown>(
    name,
    (u): u is t.TypeOf<typeof shape> => shape.is(u),
    (u, c) => {
      if (!isPlainObject(u)) return t.failure(u, c, `${name} must be a JSON object`)
      const extra = Object.keys(u).filter((k) => !known.has(k))
      if (extra.length > 0) {
        return t.failure(u, c, `Additional properties are not allowed (${extra.map((k) => `'${k.slice(0, 60)}'`).join(", ")} ${extra.length === 1 ? "was" : "were"} unexpected)`)
      }
      return shape.validate(u, c)
    },
    (a) => a,
  )
}

export const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** A string in a form the domain's parser accepts (e.g. MAC spellings), canonicalised on the way in. */
const parsed = <A>(name: string, parse: (s: string) => E.Either<string, A>) =>
  new t.Type<A, unknown, unknown>(
    name,
    (u): u is A => typeof u === "string" && E.isRight(parse(u)),
    (u, c) => {
      if (typeof u !== "string") return t.failure(u, c, `${c.map((x) => x.key).filter(Boolean).join(".") || name} must be a string`)
      const r = parse(u)
      return E.isRight(r) ? t.success(r.right) : t.failure(u, c, r.left)
    },
    (a) => a,
  )

export const MacInput = parsed("Mac", (s) => {
  const canonical = s.trim().toLowerCase().replace(/-/g, ":")
  return Mac.is(canonical) ? E.right(canonical) : E.left(`${JSON.stringify(s.slice(0, 60))} is not a valid MAC address`)
})

export const UuidInput = parsed("Uuid", (s) => {
  const lower = s.trim().toLowerCase()
  return Uuid.is(lower) ? E.right(lower) : E.left(`Expected a UUID but received ${JSON.stringify(s.slice(0, 60))}.`)
})

export const NodeNameInput = parsed("NodeName", (s) =>
  NodeName.is(s) ? E.right(s) : E.left(`Expected a name made of letters, digits and ._~- (at most 255, not a UUID) but received ${JSON.stringify(s.slice(0, 60))}.`))

/** A hardware type's name; whether this service enables it is the application's to say. */
export const DriverInput = parsed("Driver", (s) =>
  E.isRight(Driver.decode(s)) ? E.right(s) : E.left(`Could not find the following driver(s) or hardware type(s): ${JSON.stringify(s.slice(0, 60))}.`))

const Scalar = t.union([t.string, t.number, t.boolean, t.null], "string, number, boolean or null")
export const DriverInfoInput = t.record(t.string, Scalar, "an object of plain values")
export const JsonObject = t.UnknownRecord

/** A port number or lun arrives as a number or a decimal string (the ramdisk sends strings). */
const numberish = <A>(codec: t.Type<A, number, unknown>, name: string) =>
  new t.Type<A, unknown, unknown>(
    name,
    codec.is,
    (u, c) => {
      const n = typeof u === "string" && /^\d{1,10}$/.test(u) ? Number(u) : u
      return codec.is(n) ? t.success(n) : t.failure(u, c, `${c.map((x) => x.key).filter(Boolean).join(".")} must be ${name}, got ${JSON.stringify(u)?.slice(0, 40)}`)
    },
    (a) => a,
  )

const InterfaceNameInput = t.union([t.string, t.null])

export const NodeCreate = strict({ driver: DriverInput }, {
  uuid: UuidInput,
  name: t.union([NodeNameInput, t.null]),
  driver_info: DriverInfoInput,
  properties: JsonObject,
  instance_info: JsonObject,
  extra: JsonObject,
  automated_clean: t.union([t.boolean, t.null]),
  description: t.union([t.string, t.null]),
  owner: t.union([t.string, t.null]),
  lessee: t.union([t.string, t.null]),
  resource_class: t.union([t.string, t.null]),
  conductor_group: t.union([t.string, t.null]),
  network_data: JsonObject,
  ...Object.fromEntries(interfaceSlots.map((slot) => [`${slot}_interface`, InterfaceNameInput])) as Record<`${InterfaceSlot}_interface`, typeof InterfaceNameInput>,
}, "node")

export const PortCreate = strict({ address: MacInput, node_uuid: UuidInput }, {
  // Every ironledger port PXE boots; accepting `true` keeps scripts that spell it out working.
  pxe_enabled: t.literal(true),
  extra: JsonObject,
  local_link_connection: JsonObject,
  physical_network: t.union([t.string, t.null]),
  portgroup_uuid: t.union([UuidInput, t.null]),
  is_smartnic: t.boolean,
}, "port")

export const ProvisionTargetInput = t.keyof({
  manage: null, provide: null, active: null, deleted: null, rebuild: null, abort: null,
  inspect: null, clean: null, rescue: null, unrescue: null, adopt: null, deploy: null, undeploy: null,
}, "one of manage, provide, active, deleted, rebuild, abort, inspect, clean, rescue, unrescue, adopt, deploy, undeploy")

export const ProvisionBody = strict({ target: ProvisionTargetInput }, {
  configdrive: t.union([t.string, JsonObject, t.null]),
  clean_steps: t.array(JsonObject),
  deploy_steps: t.array(JsonObject),
  rescue_password: t.string,
  disable_ramdisk: t.boolean,
}, "provision state change")

export const PowerBody = strict({
  target: t.keyof({ "power on": null, "power off": null, rebooting: null, "soft power off": null },
    "one of \"power on\", \"power off\", \"rebooting\", \"soft power off\""),
}, { timeout: t.union([NonNegativeInt, t.null]) }, "power state change")

export const MaintenanceBody = strict({}, { reason: t.union([t.string, t.null]) }, "maintenance")

const IpAddress = new t.Type<string, string, unknown>(
  "an IP address",
  (u): u is string => typeof u === "string" && isIP(u) !== 0,
  (u, c) => (typeof u === "string" && isIP(u) !== 0 ? t.success(u) : t.failure(u, c, `address must be an IP address, got ${JSON.stringify(u)?.slice(0, 60)}`)),
  (a) => a,
)

const IqnInput = new t.Type<string, string, unknown>(
  "an iSCSI qualified name",
  (u): u is string => Iqn.is(u),
  (u, c) => (Iqn.is(u) ? t.success(u) : t.failure(u, c, `iqn must be an iSCSI qualified name (iqn.yyyy-mm.domain[:id]), got ${JSON.stringify(u)?.slice(0, 80)}`)),
  (a) => a,
)

export const PassDeployInfo = strict({
  address: IpAddress,
  key: t.string,
  iqn: IqnInput,
}, {
  port: numberish(PortNumber, "a TCP port"),
  lun: numberish(NonNegativeInt, "a non-negative integer"),
  error: t.union([t.string, t.null]),
  chap_user: t.string,
  chap_secret: t.string,
}, "pass_deploy_info")

export const Heartbeat = strict({ callback_url: t.string }, {
  agent_version: t.string,
  agent_token: t.string,
  agent_verify_ca: t.union([t.string, t.boolean]),
  agent_status: t.string,
  agent_status_message: t.string,
}, "heartbeat")

const PatchPath = t.string
export const PatchOperation = t.union([
  strict({ op: t.keyof({ add: null, replace: null }), path: PatchPath, value: t.unknown }, {}, "add or replace operation"),
  strict({ op: t.literal("remove"), path: PatchPath }, {}, "remove operation"),
], "JSON PATCH operation (add, replace or remove)")
export type PatchOperation = t.TypeOf<typeof PatchOperation>

export const maxPatchOperations = 256
export const PatchDocument = new t.Type<ReadonlyArray<PatchOperation>, unknown, unknown>(
  "JSON PATCH",
  (u): u is ReadonlyArray<PatchOperation> => Array.isArray(u) && u.every(PatchOperation.is),
  (u, c) => {
    if (!Array.isArray(u)) return t.failure(u, c, "a PATCH body must be a JSON array of RFC 6902 operations")
    if (u.length > maxPatchOperations) return t.failure(u, c, `a PATCH holds at most ${maxPatchOperations} operations`)
    const other = u.find((op) => !isPlainObject(op) || !["add", "replace", "remove"].includes(op["op"] as string))
    if (other !== undefined) {
      const name = isPlainObject(other) ? JSON.stringify(other["op"])?.slice(0, 40) : JSON.stringify(other)?.slice(0, 40)
      return t.failure(u, c, `unsupported PATCH operation ${name}: each operation must be an object with op add, replace or remove`)
    }
    return t.array(PatchOperation).validate(u, c)
  },
  (a) => a,
)
