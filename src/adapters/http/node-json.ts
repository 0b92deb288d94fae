// NodeView -> Ironic's node document, shaped by the negotiated microversion the way Ironic does
// (fields newer than the request's version are left out; 1.1 hides names and shows "available" as null).
import type { NodeView, PortView } from "../../application/node-service.ts"
import { interfaceSlots } from "../../domain/index.ts"
import { badRequest } from "./errors.ts"
import { fieldVisibleAt } from "./node-fields.ts"

type Json = Record<string, unknown>

export const links = (base: string, kind: string, id: string): ReadonlyArray<Json> => [
  { href: `${base}/v1/${kind}/${id}`, rel: "self" },
  { href: `${base}/${kind}/${id}`, rel: "bookmark" },
]

/** `power_interface`, `boot_interface`, ...: the node's interface in each slot, as Ironic names them. */
export const interfaceFields = (interfaces: NodeView["interfaces"]): Json =>
  Object.fromEntries(interfaceSlots.map((slot) => [`${slot}_interface`, interfaces[slot] ?? null]))

const visibleAt = fieldVisibleAt

const shownProvisionState = (state: string | null, version: number) =>
  // Before 1.2 Ironic called "available" NOSTATE, which clients see as null.
  version < 2 && state === "available" ? null : state

type Field = readonly [name: string, value: (n: NodeView, base: string, version: number) => unknown]

/** Every node field in the order Ironic shows them, each with how it is read from the view. */
const nodeFields: ReadonlyArray<Field> = [
  ["uuid", (n) => n.uuid],
  ["name", (n) => n.name],
  ["driver", (n) => n.driver],
  ["driver_info", (n) => n.driverInfo],
  ["driver_internal_info", (n) => n.driverInternalInfo ?? {}],
  ["properties", (n) => n.properties],
  ["instance_info", (n) => n.instanceInfo],
  ["instance_uuid", (n) => n.instanceUuid],
  ["extra", (n) => n.extra],
  ["provision_state", (n, _, v) => shownProvisionState(n.provisionState, v)],
  ["target_provision_state", (n, _, v) => shownProvisionState(n.targetProvisionState, v)],
  ["power_state", (n) => n.powerState],
  ["target_power_state", (n) => n.targetPowerState],
  ["maintenance", (n) => n.maintenance],
  ["maintenance_reason", (n) => n.maintenanceReason],
  ["last_error", (n) => n.lastError],
  ["reservation", () => null],
  ["console_enabled", (n) => n.consoleEnabled],
  ["chassis_uuid", () => null],
  ["created_at", (n) => n.createdAt],
  ["updated_at", (n) => n.updatedAt],
  ["provision_updated_at", (n) => n.provisionUpdatedAt],
  ["inspection_started_at", () => null],
  ["inspection_finished_at", () => null],
  ["clean_step", () => ({})],
  ["deploy_step", () => ({})],
  ["raid_config", (n) => n.raidConfig],
  ["target_raid_config", (n) => n.targetRaidConfig],
  ["resource_class", (n) => n.resourceClass],
  ["traits", (n) => n.traits],
  ["fault", (n) => n.fault],
  ["conductor_group", (n) => n.conductorGroup],
  ["automated_clean", (n) => n.automatedClean],
  ["protected", (n) => n.protected],
  ["protected_reason", (n) => n.protectedReason],
  ["conductor", () => "ironledger"],
  ["owner", (n) => n.owner],
  ["description", (n) => n.description],
  ["allocation_uuid", (n) => n.allocationUuid],
  ["retired", (n) => n.retired],
  ["retired_reason", (n) => n.retiredReason],
  ["lessee", (n) => n.lessee],
  ["network_data", (n) => n.networkData],
  // The current boot mode and secure boot state as the BMC reports them (1.75, 1.76): ironledger
  // does not read them back yet, and null is Ironic's "unknown".
  ["boot_mode", () => null],
  ["secure_boot", () => null],
  ...interfaceSlots.map((slot): Field => [`${slot}_interface`, (n) => n.interfaces[slot] ?? null]),
  // ironledger additions: the stream revision the document reflects and the running image write.
  ["revision", (n) => n.revision],
  ["deploy_progress", (n) => n.deployProgress === null ? null
    : { bytes_written: n.deployProgress.bytesWritten, total_bytes: n.deployProgress.totalBytes }],
  ["links", (n, base) => links(base, "nodes", n.uuid)],
  ["ports", (n, base) => [
    { href: `${base}/v1/nodes/${n.uuid}/ports`, rel: "self" },
    { href: `${base}/nodes/${n.uuid}/ports`, rel: "bookmark" },
  ]],
  ["states", (n, base) => [
    { href: `${base}/v1/nodes/${n.uuid}/states`, rel: "self" },
    { href: `${base}/nodes/${n.uuid}/states`, rel: "bookmark" },
  ]],
]

/** The fields a version shows, worked out once per version: a document is built with only these. */
const fieldsByVersion = new Map<number, ReadonlyArray<Field>>()
const fieldsAt = (version: number): ReadonlyArray<Field> => {
  let fields = fieldsByVersion.get(version)
  if (fields === undefined) fieldsByVersion.set(version, fields = nodeFields.filter(([name]) => visibleAt(name, version)))
  return fields
}

/**
 * A version's document with every field null, made at once: a document is a copy of it with the
 * values written in. Added one by one to `{}`, V8 made a document a dictionary after ~20 fields,
 * and JSON.stringify then took its slow path (ADR 0193).
 */
const shapeByVersion = new Map<number, Json>()
const shapeAt = (version: number): Json => {
  let shape = shapeByVersion.get(version)
  if (shape === undefined) shapeByVersion.set(version, shape = Object.fromEntries(fieldsAt(version).map(([name]) => [name, null])))
  return shape
}

/** The names of the fields a node document has at `version` (what `fields=` may name). */
export const nodeFieldNames = (version: number): ReadonlySet<string> => {
  let names = fieldNamesByVersion.get(version)
  if (names === undefined) fieldNamesByVersion.set(version, names = new Set(fieldsAt(version).map(([name]) => name)))
  return names
}
const fieldNamesByVersion = new Map<number, ReadonlySet<string>>()

/**
 * Every document of a version is a copy of its shape (never a field added or deleted), so they share
 * one hidden class with fast properties, and JSON.stringify takes its fast path.
 */
export const nodeDocument = (n: NodeView, base: string, version: number): Json => {
  const doc: Json = { ...shapeAt(version) }
  for (const [name, value] of fieldsAt(version)) doc[name] = value(n, base, version)
  return doc
}

const fieldValue = new Map(nodeFields)

/**
 * What `pickFields(nodeDocument(n, ...), fields, ...)` gives, without building the fields left out:
 * `fields=` in the order asked (400 for one the version does not have), then the links.
 */
export const nodePicked = (n: NodeView, base: string, version: number, fields: ReadonlyArray<string>): Json => {
  const known = nodeFieldNames(version)
  const unknown = fields.filter((f) => !known.has(f))
  if (unknown.length > 0) throw badRequest(`Field(s) "${unknown.map((f) => f.slice(0, 40)).join(", ")}" are not valid.`)
  const picked: Json = {}
  for (const f of fields) picked[f] = fieldValue.get(f)!(n, base, version)
  picked["links"] = links(base, "nodes", n.uuid)
  return picked
}

/** The short form used by GET /v1/nodes without `detail`. */
export const nodeSummaryFields = ["uuid", "name", "instance_uuid", "power_state", "provision_state", "maintenance", "links"]

/** Restricts a document to `fields=` (Ironic answers 400 for an unknown field name). */
export const pickFields = (doc: Json, fields: ReadonlyArray<string> | null, known: ReadonlySet<string>): Json => {
  if (fields === null) return doc
  const unknown = fields.filter((f) => !known.has(f))
  if (unknown.length > 0) throw badRequest(`Field(s) "${unknown.map((f) => f.slice(0, 40)).join(", ")}" are not valid.`)
  const picked: Json = {}
  for (const f of fields) if (f in doc) picked[f] = doc[f]
  // Ironic always adds links so clients can follow the resource.
  if ("links" in doc) picked["links"] = doc["links"]
  return picked
}

export const parseFields = (raw: string | null): ReadonlyArray<string> | null =>
  raw === null ? null : raw.split(",").map((s) => s.trim()).filter((s) => s !== "")

/** The microversion that introduced each port field (Ironic's port controller). */
const portFieldIntroducedIn: Readonly<Record<string, number>> = {
  internal_info: 18, local_link_connection: 19, pxe_enabled: 19, portgroup_uuid: 24, physical_network: 34,
  is_smartnic: 53, name: 88,
}

export const portDocument = (p: PortView, base: string, version = 78): Json => {
  const doc: Json = {
    uuid: p.uuid,
    address: p.address,
    node_uuid: p.nodeUuid,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    extra: p.extra,
    internal_info: p.vifId === null ? {} : { tenant_vif_port_id: p.vifId },
    local_link_connection: p.localLinkConnection,
    pxe_enabled: p.pxeEnabled,
    physical_network: p.physicalNetwork,
    portgroup_uuid: p.portgroupId,
    is_smartnic: p.isSmartnic,
    name: null,
    links: links(base, "ports", p.uuid),
  }
  for (const field of Object.keys(doc)) if ((portFieldIntroducedIn[field] ?? 1) > version) delete doc[field]
  return doc
}

export const portSummaryFields = ["uuid", "address", "links"]

export const statesDocument = (n: NodeView, version: number): Json => ({
  console_enabled: n.consoleEnabled,
  last_error: n.lastError,
  power_state: n.powerState,
  provision_state: shownProvisionState(n.provisionState, version),
  provision_updated_at: n.provisionUpdatedAt,
  target_power_state: n.targetPowerState,
  target_provision_state: shownProvisionState(n.targetProvisionState, version),
  raid_config: n.raidConfig,
  target_raid_config: n.targetRaidConfig,
})
