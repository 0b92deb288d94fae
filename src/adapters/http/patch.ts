// RFC 6902 JSON PATCH on a node (`baremetal node set/unset`): add, replace and remove on the
// fields a user may change. The result is the NodeChanges of the top-level fields touched.
import * as t from "io-ts"
import type { NodeChanges, NodeView } from "../../application/node-service.ts"
import { interfaceSlots, type Driver, type InterfaceSlot, type NodeName } from "../../domain/index.ts"
import { decodeOrThrow, DriverInfoInput, DriverInput, isPlainObject, NodeNameInput, type PatchOperation } from "./codecs.ts"
import { badRequest } from "./errors.ts"

type Dict = Record<string, unknown>
const dictFields = ["driver_info", "properties", "instance_info", "extra"] as const
type DictField = (typeof dictFields)[number]

interface Doc {
  name: string | null
  driver: string
  /** Per slot: the interface asked for, or null for the hardware type's default. */
  interfaces: Partial<Record<InterfaceSlot, string | null>>
  automated_clean: boolean | null
  driver_info: Dict
  properties: Dict
  instance_info: Dict
  extra: Dict
}

const pointer = (path: string): ReadonlyArray<string> => {
  if (!path.startsWith("/")) throw badRequest(`Invalid patch path ${JSON.stringify(path.slice(0, 80))}: it must start with "/".`)
  return path.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
}

const allowed = "only /name, /driver, /<slot>_interface, /automated_clean, /driver_info/*, /properties/*, /instance_info/* and /extra/* can be changed"

const slotOf = (field: string | undefined): InterfaceSlot | undefined => {
  const slot = field?.endsWith("_interface") ? field.slice(0, -"_interface".length) : undefined
  return interfaceSlots.find((s) => s === slot)
}

export const applyNodePatch = (node: NodeView, ops: ReadonlyArray<PatchOperation>): NodeChanges => {
  const doc: Doc = structuredClone({
    name: node.name, driver: node.driver, driver_info: node.driverInfo, properties: node.properties,
    instance_info: node.instanceInfo, extra: node.extra, interfaces: {}, automated_clean: node.automatedClean,
  })
  const touched = new Set<keyof Doc>()
  for (const op of ops) {
    const [head, ...rest] = pointer(op.path)
    const slot = slotOf(head)
    if ((head === "name" || head === "driver" || head === "automated_clean" || slot !== undefined) && rest.length > 0) {
      throw badRequest(`Invalid patch path ${op.path}: ${allowed}.`)
    }
    if (head === "name" || head === "driver") {
      applyScalar(doc, head, op)
    } else if (head === "automated_clean") {
      const value = op.op === "remove" ? null : valueOf(op)
      if (value !== null && typeof value !== "boolean") throw badRequest("automated_clean must be true, false or null.")
      doc.automated_clean = value
    } else if (slot !== undefined) {
      // Removing an interface goes back to the hardware type's default, as in Ironic.
      const value = op.op === "remove" ? null : valueOf(op)
      if (value !== null && typeof value !== "string") throw badRequest(`${slot}_interface must be an interface name.`)
      doc.interfaces[slot] = value
      touched.add("interfaces")
      continue
    } else if (isDictField(head)) {
      if (rest.length === 0) applyWholeDict(doc, head, op)
      else applyInside(doc[head], rest, op, `${node.uuid}`)
    } else {
      throw badRequest(`Invalid patch path ${JSON.stringify(op.path.slice(0, 80))}: ${allowed}.`)
    }
    touched.add(head)
  }
  return changesOf(doc, touched)
}

const isDictField = (s: string | undefined): s is DictField => dictFields.includes(s as DictField)

const valueOf = (op: PatchOperation): unknown => {
  if (!("value" in op) || op.value === undefined) throw badRequest(`The "${op.op}" operation on ${op.path} needs a value.`)
  return op.value
}

const applyScalar = (doc: Doc, field: "name" | "driver", op: PatchOperation) => {
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

const applyWholeDict = (doc: Doc, field: DictField, op: PatchOperation) => {
  if (op.op === "remove") {
    doc[field] = {}
    return
  }
  const value = valueOf(op)
  if (!isPlainObject(value)) throw badRequest(`/${field} must be a JSON object.`)
  doc[field] = structuredClone(value)
}

/** add/replace/remove below one of the dictionaries, at any depth (RFC 6901 pointers). */
const applyInside = (root: Dict, path: ReadonlyArray<string>, op: PatchOperation, nodeId: string) => {
  let parent: unknown = root
  for (const key of path.slice(0, -1)) {
    parent = child(parent, key)
    if (parent === undefined) throw badRequest(`Can't ${op.op} ${op.path} on node ${nodeId}: ${key} does not exist.`)
  }
  const last = path[path.length - 1]!
  if (Array.isArray(parent)) return applyInArray(parent, last, op, nodeId)
  if (!isPlainObject(parent)) throw badRequest(`Can't ${op.op} ${op.path} on node ${nodeId}: its parent is not an object.`)
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

const changesOf = (doc: Doc, touched: ReadonlySet<keyof Doc>): NodeChanges => {
  const changes: {
    -readonly [K in keyof NodeChanges]: NodeChanges[K]
  } = {}
  if (touched.has("name")) changes.name = doc.name as NodeName | null
  if (touched.has("driver")) changes.driver = doc.driver as Driver
  if (touched.has("driver_info")) changes.driverInfo = decodeOrThrow(DriverInfoInput as t.Decoder<unknown, Record<string, string | number | boolean | null>>, doc.driver_info, "driver_info")
  if (touched.has("properties")) changes.properties = doc.properties
  if (touched.has("instance_info")) changes.instanceInfo = doc.instance_info
  if (touched.has("extra")) changes.extra = doc.extra
  if (touched.has("interfaces")) changes.interfaces = doc.interfaces
  if (touched.has("automated_clean")) changes.automatedClean = doc.automated_clean
  return changes
}
