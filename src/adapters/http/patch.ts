// RFC 6902 JSON PATCH on a node (`baremetal node set/unset`): add, replace and remove on the
// fields Ironic lets a user change, each from the API version that introduced it. Every path is
// checked segment by segment: the first against the allow-list below, every one against names
// that would reach an object's prototype. The result is the changes of the top-level fields touched.
import * as t from "io-ts"
import type { NodeChanges, NodeView } from "../../application/node-service.ts"
import { interfaceSlots, Uuid, type Driver, type InterfaceSlot, type NodeName } from "../../domain/index.ts"
import { decodeOrThrow, DriverInfoInput, DriverInput, isPlainObject, NodeNameInput, type PatchOperation } from "./codecs.ts"
import { badRequest, HttpError } from "./errors.ts"
import { fieldIntroducedIn } from "./node-fields.ts"

type Dict = Record<string, unknown>
const dictFields = ["driver_info", "properties", "instance_info", "extra", "network_data"] as const
type DictField = (typeof dictFields)[number]

/** Keys that name an object's prototype machinery: never a field, at any depth. */
const forbiddenKeys: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"])

/** Scalar fields: how a value is checked, and what removing the field leaves. */
interface Scalar {
  readonly check: (value: unknown, path: string) => unknown
  readonly removed: unknown
}

const text = (max: number) => (value: unknown, path: string) => {
  if (value !== null && (typeof value !== "string" || value.length > max)) throw badRequest(`${path} must be a string of at most ${max} characters, or null.`)
  return value
}
/** A boolean, or a string Ironic reads as one (the CLI sends `protected=True` as "True"). */
export const flag = (value: unknown, path: string): boolean => {
  if (typeof value === "boolean") return value
  const v = typeof value === "string" ? value.trim().toLowerCase() : undefined
  if (v !== undefined && ["true", "1", "yes", "on", "y", "t"].includes(v)) return true
  if (v !== undefined && ["false", "0", "no", "off", "n", "f"].includes(v)) return false
  throw badRequest(`${path} must be true or false.`)
}
const conductorGroup = (value: unknown, path: string) => {
  if (value === null) return ""
  if (typeof value !== "string" || !/^[a-zA-Z0-9_.:-]{0,255}$/.test(value)) {
    throw badRequest(`${path} must be at most 255 letters, digits, ".", "_", ":" or "-".`)
  }
  return value.toLowerCase()
}
const instanceUuid = (value: unknown, path: string) => {
  if (value === null) return null
  if (typeof value !== "string" || !Uuid.is(value.toLowerCase())) throw badRequest(`${path} must be a UUID, got ${JSON.stringify(value)?.slice(0, 60)}.`)
  return value.toLowerCase()
}

const scalars: Readonly<Record<string, Scalar>> = {
  description: { check: text(4096), removed: null },
  owner: { check: text(255), removed: null },
  lessee: { check: text(255), removed: null },
  resource_class: { check: text(80), removed: null },
  conductor_group: { check: conductorGroup, removed: "" },
  instance_uuid: { check: instanceUuid, removed: null },
  protected: { check: flag, removed: false },
  protected_reason: { check: text(255), removed: null },
  retired: { check: flag, removed: false },
  retired_reason: { check: text(255), removed: null },
  maintenance: { check: flag, removed: false },
  automated_clean: { check: (v, p) => (v === null ? null : flag(v, p)), removed: null },
}

const changeKey: Readonly<Record<string, keyof NodeChanges>> = {
  description: "description", owner: "owner", lessee: "lessee", resource_class: "resourceClass",
  conductor_group: "conductorGroup", instance_uuid: "instanceUuid", protected: "protected",
  protected_reason: "protectedReason", retired: "retired", retired_reason: "retiredReason",
  automated_clean: "automatedClean", network_data: "networkData",
}

const allowedNames = [
  "name", "driver", ...Object.keys(scalars), "chassis_uuid", ...dictFields,
  ...interfaceSlots.map((s) => `${s}_interface`),
].sort()

const short = (path: string) => JSON.stringify(path.slice(0, 80))

/** RFC 6901 segments, each checked: no empty segment, no prototype names. */
export const pointer = (path: string): ReadonlyArray<string> => {
  if (!path.startsWith("/")) throw badRequest(`Invalid patch path ${short(path)}: it must start with "/".`)
  const segments = path.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
  for (const segment of segments) {
    if (segment === "") throw badRequest(`Invalid patch path ${short(path)}: empty segments are not allowed.`)
    if (forbiddenKeys.has(segment)) throw badRequest(`Invalid patch path ${short(path)}: "${segment}" can not be patched.`)
  }
  return segments
}

/** A value may not carry a prototype name as a key either, at any depth. */
export const refuseForbiddenKeys = (value: unknown, where: string): void => {
  if (Array.isArray(value)) {
    for (const v of value) refuseForbiddenKeys(v, where)
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (forbiddenKeys.has(key)) throw badRequest(`Invalid ${where}: the key "${key}" is not allowed.`)
      refuseForbiddenKeys(value[key], where)
    }
  }
}

const slotOf = (field: string): InterfaceSlot | undefined => {
  const slot = field.endsWith("_interface") ? field.slice(0, -"_interface".length) : undefined
  return interfaceSlots.find((s) => s === slot)
}

/** What a patch asks for: the record changes, and maintenance, which is its own event. */
export interface NodePatch {
  readonly changes: NodeChanges
  readonly maintenance?: boolean
}

interface Doc {
  name: string | null
  driver: string
  interfaces: Partial<Record<InterfaceSlot, string | null>>
  scalars: Record<string, unknown>
  dicts: Record<DictField, Dict>
}

export const applyNodePatch = (node: NodeView, ops: ReadonlyArray<PatchOperation>, version: number): NodePatch => {
  const doc: Doc = structuredClone({
    name: node.name, driver: node.driver, interfaces: {},
    scalars: {
      description: node.description, owner: node.owner, lessee: node.lessee, resource_class: node.resourceClass,
      conductor_group: node.conductorGroup, instance_uuid: node.instanceUuid, protected: node.protected,
      protected_reason: node.protectedReason, retired: node.retired, retired_reason: node.retiredReason,
      maintenance: node.maintenance, automated_clean: node.automatedClean,
    },
    dicts: {
      driver_info: node.driverInfo, properties: node.properties, instance_info: node.instanceInfo,
      extra: node.extra, network_data: node.networkData,
    },
  })
  const touched = new Set<string>()
  for (const op of ops) {
    const [head, ...rest] = pointer(op.path)
    if (head === "traits") throw badRequest("Cannot update node traits via node patch. Node traits should be updated via the node traits API.")
    if (!allowedNames.includes(head!)) throw badRequest(`Cannot patch ${short(op.path)}. Only the following can be updated: ${allowedNames.join(", ")}.`)
    if ((fieldIntroducedIn[head!] ?? 1) > version) {
      throw new HttpError(406, `Request not acceptable: ${head} can be patched from API version 1.${fieldIntroducedIn[head!]}, this request uses 1.${version}.`)
    }
    if ("value" in op) refuseForbiddenKeys(op.value, `value of ${op.path.slice(0, 80)}`)
    const field = head!
    const slot = slotOf(field)
    if (!isDictField(field) && rest.length > 0) throw badRequest(`Invalid patch path ${short(op.path)}: ${field} has no members.`)
    if (field === "name" || field === "driver") applyName(doc, field, op)
    else if (field === "chassis_uuid") applyChassis(op, version)
    else if (slot !== undefined) {
      // Removing an interface goes back to the hardware type's default, as in Ironic.
      const value = op.op === "remove" ? null : valueOf(op)
      if (value !== null && typeof value !== "string") throw badRequest(`${field} must be an interface name.`)
      doc.interfaces[slot] = value
      touched.add("interfaces")
      continue
    } else if (isDictField(field)) {
      if (rest.length === 0) applyWholeDict(doc.dicts, field, op)
      else applyInside(doc.dicts[field], rest, op, node.uuid)
    } else {
      const scalar = scalars[field]!
      doc.scalars[field] = op.op === "remove" ? scalar.removed : scalar.check(valueOf(op), `/${field}`)
    }
    touched.add(field)
  }
  return patchOf(doc, touched)
}

const isDictField = (s: string): s is DictField => dictFields.includes(s as DictField)

export const valueOf = (op: PatchOperation): unknown => {
  if (!("value" in op) || op.value === undefined) throw badRequest(`The "${op.op}" operation on ${op.path.slice(0, 80)} needs a value.`)
  return op.value
}

const applyName = (doc: Doc, field: "name" | "driver", op: PatchOperation) => {
  if (op.op === "remove") {
    if (field === "driver") throw badRequest("The driver of a node can not be removed, only replaced.")
    if (doc.name === null) throw badRequest("Can't remove non-existent attribute 'name'.")
    doc.name = null
    return
  }
  const value = valueOf(op)
  if (field === "name") doc.name = value === null ? null : decodeOrThrow(NodeNameInput, value, "name")
  else doc.driver = decodeOrThrow(DriverInput, value, "driver")
}

/** ironledger has no chassis: a node belongs to none, so only "none" can be asked for. */
const applyChassis = (op: PatchOperation, version: number) => {
  if (op.op === "remove" || op.value === null) {
    if (version < 25) throw new HttpError(406, "Request not acceptable: chassis_uuid can be removed from API version 1.25.")
    return
  }
  throw badRequest(`Chassis ${JSON.stringify(op.value)?.slice(0, 60)} could not be found: ironledger has no chassis.`)
}

const applyWholeDict = (dicts: Doc["dicts"], field: DictField, op: PatchOperation) => {
  if (op.op === "remove") {
    dicts[field] = {}
    return
  }
  const value = valueOf(op)
  if (!isPlainObject(value)) throw badRequest(`/${field} must be a JSON object.`)
  dicts[field] = structuredClone(value)
}

/** add/replace/remove below one of the dictionaries, at any depth (RFC 6901 pointers). */
export const applyInside = (root: Dict, path: ReadonlyArray<string>, op: PatchOperation, nodeId: string) => {
  let parent: unknown = root
  for (const key of path.slice(0, -1)) {
    parent = child(parent, key)
    if (parent === undefined) throw badRequest(`Can't ${op.op} ${op.path.slice(0, 80)} on node ${nodeId}: ${key.slice(0, 80)} does not exist.`)
  }
  const last = path[path.length - 1]!
  if (Array.isArray(parent)) return applyInArray(parent, last, op, nodeId)
  if (!isPlainObject(parent)) throw badRequest(`Can't ${op.op} ${op.path.slice(0, 80)} on node ${nodeId}: its parent is not an object.`)
  const exists = Object.hasOwn(parent, last)
  if (op.op === "remove" || op.op === "replace") {
    if (!exists) throw badRequest(`Can't ${op.op} non-existent attribute '${op.path.slice(0, 80)}' of node ${nodeId}.`)
  }
  if (op.op === "remove") delete parent[last]
  else parent[last] = structuredClone(valueOf(op))
}

const child = (value: unknown, key: string): unknown => {
  if (Array.isArray(value)) return /^\d+$/.test(key) ? value[Number(key)] : undefined
  return isPlainObject(value) && Object.hasOwn(value, key) ? value[key] : undefined
}

const applyInArray = (array: Array<unknown>, key: string, op: PatchOperation, nodeId: string) => {
  const index = key === "-" ? array.length : /^\d+$/.test(key) ? Number(key) : -1
  const limit = op.op === "add" ? array.length : array.length - 1
  if (index < 0 || index > limit) throw badRequest(`Can't ${op.op} ${op.path.slice(0, 80)} on node ${nodeId}: no such array index.`)
  if (op.op === "add") array.splice(index, 0, structuredClone(valueOf(op)))
  else if (op.op === "replace") array[index] = structuredClone(valueOf(op))
  else array.splice(index, 1)
}

const patchOf = (doc: Doc, touched: ReadonlySet<string>): NodePatch => {
  const changes: Record<string, unknown> = {}
  if (touched.has("name")) changes["name"] = doc.name as NodeName | null
  if (touched.has("driver")) changes["driver"] = doc.driver as Driver
  if (touched.has("driver_info")) {
    changes["driverInfo"] = decodeOrThrow(DriverInfoInput as t.Decoder<unknown, Record<string, string | number | boolean | null>>, doc.dicts.driver_info, "driver_info")
  }
  if (touched.has("properties")) changes["properties"] = doc.dicts.properties
  if (touched.has("instance_info")) changes["instanceInfo"] = doc.dicts.instance_info
  if (touched.has("extra")) changes["extra"] = doc.dicts.extra
  if (touched.has("network_data")) changes["networkData"] = doc.dicts.network_data
  if (touched.has("interfaces")) changes["interfaces"] = doc.interfaces
  for (const field of Object.keys(scalars)) {
    if (field !== "maintenance" && touched.has(field)) changes[changeKey[field]!] = doc.scalars[field]
  }
  return {
    changes: changes as NodeChanges,
    ...(touched.has("maintenance") ? { maintenance: doc.scalars["maintenance"] as boolean } : {}),
  }
}

/** The record fields a POST /v1/nodes may set, checked as a PATCH checks them. */
export const enrollRecord = (body: Record<string, unknown>, version: number): NodeChanges => {
  const record: Record<string, unknown> = {}
  for (const field of ["description", "owner", "lessee", "resource_class", "conductor_group", "network_data"]) {
    const value = body[field]
    if (value === undefined) continue
    if ((fieldIntroducedIn[field] ?? 1) > version) throw new HttpError(406, `Request not acceptable: ${field} can be set from API version 1.${fieldIntroducedIn[field]}.`)
    refuseForbiddenKeys(value, field)
    record[changeKey[field]!] = field === "network_data" ? value : scalars[field]!.check(value, field)
  }
  return record as NodeChanges
}
