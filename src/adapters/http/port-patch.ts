// JSON PATCH on a port (`baremetal port set/unset`): address, extra, pxe_enabled,
// local_link_connection and physical_network, each from the API version that introduced it,
// paths checked segment by segment as a node's are.
import type { PortChanges, PortView } from "../../application/node-service.ts"
import type { Mac, Uuid } from "../../domain/index.ts"
import { decodeOrThrow, isPlainObject, MacInput, UuidInput, type PatchOperation } from "./codecs.ts"
import { badRequest, HttpError } from "./errors.ts"
import { applyInside, flag, pointer, refuseForbiddenKeys, valueOf } from "./patch.ts"

const introducedIn: Readonly<Record<string, number>> = {
  address: 1, extra: 1, pxe_enabled: 19, local_link_connection: 19, physical_network: 34,
  portgroup_uuid: 24, is_smartnic: 53,
}
const dicts = new Set(["extra", "local_link_connection"])
const allowed = Object.keys(introducedIn).sort().join(", ")

export const applyPortPatch = (port: PortView, ops: ReadonlyArray<PatchOperation>, version: number): PortChanges => {
  const doc = structuredClone({
    address: port.address as string, extra: port.extra, pxe_enabled: port.pxeEnabled,
    local_link_connection: port.localLinkConnection, physical_network: port.physicalNetwork,
    portgroup_uuid: port.portgroupId, is_smartnic: port.isSmartnic,
  })
  const touched = new Set<string>()
  for (const op of ops) {
    const [head, ...rest] = pointer(op.path)
    const field = head!
    if (field === "node_uuid") throw badRequest(`Cannot patch /${field}: ironledger does not move a port to another node; delete it and create it again.`)
    if (!Object.hasOwn(introducedIn, field)) throw badRequest(`Cannot patch ${JSON.stringify(op.path.slice(0, 80))}. Only the following can be updated: ${allowed}.`)
    if (introducedIn[field]! > version) throw new HttpError(406, `Request not acceptable: ${field} can be patched from API version 1.${introducedIn[field]}.`)
    if ("value" in op) refuseForbiddenKeys(op.value, `value of ${op.path.slice(0, 80)}`)
    touched.add(field)
    if (dicts.has(field)) {
      const key = field as "extra" | "local_link_connection"
      if (rest.length > 0) {
        applyInside(doc[key], rest, op, port.uuid)
      } else if (op.op === "remove") {
        doc[key] = {}
      } else {
        const value = valueOf(op)
        if (!isPlainObject(value)) throw badRequest(`/${field} must be a JSON object.`)
        doc[key] = structuredClone(value)
      }
      continue
    }
    if (rest.length > 0) throw badRequest(`Invalid patch path ${JSON.stringify(op.path.slice(0, 80))}: ${field} has no members.`)
    if (field === "address") {
      if (op.op === "remove") throw badRequest("The address of a port can not be removed, only replaced.")
      doc.address = decodeOrThrow(MacInput, valueOf(op), "address")
    } else if (field === "portgroup_uuid") {
      doc.portgroup_uuid = op.op === "remove" || op.value === null ? null : decodeOrThrow(UuidInput, valueOf(op), "portgroup_uuid")
    } else if (field === "is_smartnic") {
      doc.is_smartnic = op.op === "remove" ? false : flag(valueOf(op), "is_smartnic")
    } else if (field === "pxe_enabled") {
      doc.pxe_enabled = op.op === "remove" ? true : flag(valueOf(op), "pxe_enabled")
    } else {
      const value = op.op === "remove" ? null : valueOf(op)
      if (value !== null && (typeof value !== "string" || value.length > 64)) throw badRequest("physical_network must be a string of at most 64 characters, or null.")
      doc.physical_network = value
    }
  }
  const llc = doc.local_link_connection
  if (touched.has("local_link_connection")) checkLocalLinkConnection(llc)
  return {
    ...(touched.has("address") ? { address: doc.address as Mac } : {}),
    ...(touched.has("extra") ? { extra: doc.extra } : {}),
    ...(touched.has("pxe_enabled") ? { pxeEnabled: doc.pxe_enabled } : {}),
    ...(touched.has("local_link_connection") ? { localLinkConnection: llc } : {}),
    ...(touched.has("physical_network") ? { physicalNetwork: doc.physical_network } : {}),
    ...(touched.has("portgroup_uuid") ? { portgroupId: doc.portgroup_uuid as Uuid | null } : {}),
    ...(touched.has("is_smartnic") ? { isSmartnic: doc.is_smartnic } : {}),
  }
}

/** Ironic's keys: switch_id (a MAC), port_id, switch_info, and network_type (1.64). */
const llcKeys = new Set(["switch_id", "port_id", "switch_info", "network_type", "hostname"])
export const checkLocalLinkConnection = (llc: Record<string, unknown>) => {
  for (const [key, value] of Object.entries(llc)) {
    if (!llcKeys.has(key)) throw badRequest(`local_link_connection may hold only ${[...llcKeys].join(", ")}; ${JSON.stringify(key.slice(0, 40))} is not one of them.`)
    if (typeof value !== "string") throw badRequest(`local_link_connection.${key} must be a string.`)
  }
  if (llc["switch_id"] !== undefined) decodeOrThrow(MacInput, llc["switch_id"], "local_link_connection.switch_id")
  if (llc["network_type"] !== undefined && !["managed", "unmanaged"].includes(llc["network_type"] as string)) {
    throw badRequest("local_link_connection.network_type must be managed or unmanaged.")
  }
}
