// The node record's fields that say who the node is for and how it may be used (Ironic's
// instance_uuid, owner, lessee, resource_class, traits, protected, retired, ...), and the rules
// Ironic applies when they change. Stored in Enrolled and NodeUpdated; absent in older events.
import * as t from "io-ts"
import type { ProvisionState } from "./lifecycle.ts"
import { noFields, noItems } from "./shared-values.ts"

const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null])

export const recordFields = {
  /** The instance (Nova's server, or an allocation) the node is reserved for. */
  instanceUuid: Nullable(t.string),
  /** The allocation that reserved the node (API 1.52). */
  allocationUuid: Nullable(t.string),
  description: Nullable(t.string),
  owner: Nullable(t.string),
  lessee: Nullable(t.string),
  resourceClass: Nullable(t.string),
  conductorGroup: t.string,
  traits: t.array(t.string),
  protected: t.boolean,
  protectedReason: Nullable(t.string),
  retired: t.boolean,
  retiredReason: Nullable(t.string),
  networkData: t.UnknownRecord,
  /** What the operator asked of the node's RAID (API 1.12, raid.ts). */
  targetRaidConfig: t.UnknownRecord,
  /** What the last RAID cleaning step built; also folded from its CleanStepDone. */
  raidConfig: t.UnknownRecord,
}

export interface RecordFields {
  readonly instanceUuid: string | null
  readonly allocationUuid: string | null
  readonly description: string | null
  readonly owner: string | null
  readonly lessee: string | null
  readonly resourceClass: string | null
  readonly conductorGroup: string
  readonly traits: Array<string>
  readonly protected: boolean
  readonly protectedReason: string | null
  readonly retired: boolean
  readonly retiredReason: string | null
  readonly networkData: Record<string, unknown>
  readonly targetRaidConfig: Record<string, unknown>
  readonly raidConfig: Record<string, unknown>
}

export const recordDefaults: RecordFields = {
  instanceUuid: null, allocationUuid: null, description: null, owner: null, lessee: null, resourceClass: null,
  conductorGroup: "", traits: noItems as Array<never>, protected: false, protectedReason: null, retired: false, retiredReason: null,
  networkData: noFields, targetRaidConfig: noFields, raidConfig: noFields,
}

export const recordFieldNames = Object.keys(recordDefaults) as ReadonlyArray<keyof RecordFields>

/** The record fields an event carries, for folding it in. */
export const recordFieldsOf = (data: Partial<RecordFields>): Partial<RecordFields> =>
  Object.fromEntries(recordFieldNames.filter((k) => data[k] !== undefined).map((k) => [k, data[k]]))

interface Current extends RecordFields {
  readonly nodeId: string
  readonly provisionState: ProvisionState
  readonly maintenance: boolean
}

export interface RecordRefusal {
  readonly code: "InvalidInput" | "Conflict"
  readonly message: string
}

/** Unsetting protected or retired drops its reason, as Ironic does. */
export const normaliseRecordChange = <C extends Partial<RecordFields>>(changes: C): C => ({
  ...changes,
  ...(changes.protected === false && changes.protectedReason === undefined ? { protectedReason: null } : {}),
  ...(changes.retired === false && changes.retiredReason === undefined ? { retiredReason: null } : {}),
})

/** Why a change to these fields is refused, as Ironic refuses it; null when it is allowed. */
export const refuseRecordChange = (s: Current, changes: Partial<RecordFields>): RecordRefusal | null => {
  const after = { ...s, ...changes }
  if (changes.instanceUuid != null && s.instanceUuid !== null && changes.instanceUuid !== s.instanceUuid) {
    return { code: "Conflict", message: `Node ${s.nodeId} is associated with instance ${s.instanceUuid}.` }
  }
  if (changes.allocationUuid != null && s.allocationUuid !== null && changes.allocationUuid !== s.allocationUuid) {
    return { code: "Conflict", message: `Node ${s.nodeId} already has allocation ${s.allocationUuid}.` }
  }
  if (changes.protected === true && !s.protected && s.provisionState !== "active") {
    return { code: "InvalidInput", message: `Node ${s.nodeId} can not be protected in state "${s.provisionState}": protected can only be set in active state.` }
  }
  if (after.protectedReason !== null && !after.protected) {
    return { code: "InvalidInput", message: `Node ${s.nodeId}: protected_reason can not be set unless protected is true.` }
  }
  if (changes.retired === true && !s.retired && s.provisionState === "available") {
    return { code: "Conflict", message: `Node ${s.nodeId} can not be retired in state "available": move it to manageable first.` }
  }
  if (after.retiredReason !== null && !after.retired) {
    return { code: "InvalidInput", message: `Node ${s.nodeId}: retired_reason can not be set unless retired is true.` }
  }
  return null
}

/** Provision verbs a protected node refuses (Ironic: undeploy, rebuild, clean, rescue); why, or null. */
export const refuseProtected = (s: Current, verb: string): string | null =>
  s.protected && ["undeploy", "rebuild", "clean", "rescue", "delete"].includes(verb)
    ? `Node ${s.nodeId} is protected${s.protectedReason === null ? "" : ` (${s.protectedReason})`}; "${verb}" is refused until protected is unset.`
    : null

/** A retired node is not handed out again: provide is refused. */
export const refuseRetired = (s: Current, verb: string): string | null =>
  s.retired && verb === "provide" ? `Node ${s.nodeId} is retired and can not be provided${s.retiredReason === null ? "" : ` (${s.retiredReason})`}.` : null
