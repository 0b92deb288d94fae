// An allocation (Ironic's, API 1.52): a request for a node matching a resource class, traits and
// (an ironledger addition) minimum properties, bound to the node it got. The binding is an event
// on that node's stream, decided against the node's state, so two allocations racing for one node
// are ordered by the stream's optimistic append and the second is refused.
import * as t from "io-ts"
import type { ProvisionState } from "./lifecycle.ts"
import { Uuid } from "./values.ts"

const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null])

export const AllocationRecord = t.type({
  allocationId: Uuid,
  name: Nullable(t.string),
  resourceClass: Nullable(t.string),
  traits: t.array(t.string),
  candidateNodes: t.array(t.string),
  extra: t.UnknownRecord,
  owner: Nullable(t.string),
  /** Minimum cpus, memory_mb, local_gb and the cpu_arch asked for (a flavor's). */
  properties: t.UnknownRecord,
  /** Made for a node deployed without one (API 1.58). */
  backfill: t.boolean,
}, "AllocationRecord")
export type AllocationRecord = t.TypeOf<typeof AllocationRecord>

export const allocationEventData = {
  AllocationAssigned: AllocationRecord,
  /** API 1.57: an allocation's name or extra changed. */
  AllocationUpdated: t.intersection([t.type({ allocationId: Uuid }), t.partial({ name: Nullable(t.string), extra: t.UnknownRecord })]),
  AllocationRemoved: t.type({ allocationId: Uuid }),
}

export interface AllocationState extends AllocationRecord {
  readonly createdAt: string
  /** When name or extra last changed (API 1.57); absent until then. */
  readonly updatedAt?: string
}

export type AllocationCommand =
  | { readonly type: "AssignAllocation"; readonly allocation: AllocationRecord }
  | { readonly type: "RemoveAllocation"; readonly allocationId: Uuid }
  | { readonly type: "UpdateAllocation"; readonly allocationId: Uuid; readonly name?: string | null; readonly extra?: Record<string, unknown> }

interface Node {
  readonly nodeId: string
  readonly provisionState: ProvisionState
  readonly maintenance: boolean
  readonly retired: boolean
  readonly instanceUuid: string | null
  readonly allocation: AllocationState | null
}

type Decision =
  | { readonly ok: true; readonly event: { readonly type: "AllocationAssigned"; readonly data: AllocationRecord } | { readonly type: "AllocationRemoved"; readonly data: { allocationId: Uuid } }
    | { readonly type: "AllocationUpdated"; readonly data: t.TypeOf<typeof allocationEventData.AllocationUpdated> } }
  | { readonly ok: false; readonly code: "Conflict" | "InvalidInput" | "NotFound"; readonly message: string }

/** Why the node can not take this allocation now, or null. */
export const unavailableFor = (n: Node, a: Pick<AllocationRecord, "backfill" | "allocationId">): string | null => {
  if (n.allocation !== null) return `Node ${n.nodeId} already has allocation ${n.allocation.allocationId}.`
  if (a.backfill) {
    return n.provisionState === "active" ? null : `Node ${n.nodeId} is in state "${n.provisionState}": an allocation can be backfilled only for an active node.`
  }
  if (n.provisionState !== "available") return `Node ${n.nodeId} is in state "${n.provisionState}", not available.`
  if (n.maintenance) return `Node ${n.nodeId} is in maintenance.`
  if (n.retired) return `Node ${n.nodeId} is retired.`
  if (n.instanceUuid !== null) return `Node ${n.nodeId} is associated with instance ${n.instanceUuid}.`
  return null
}

export const decideAllocation = (n: Node, c: AllocationCommand): Decision => {
  if (c.type === "AssignAllocation") {
    const why = unavailableFor(n, c.allocation)
    return why === null ? { ok: true, event: { type: "AllocationAssigned", data: c.allocation } } : { ok: false, code: "Conflict", message: why }
  }
  if (n.allocation?.allocationId !== c.allocationId) return { ok: false, code: "NotFound", message: `Allocation ${c.allocationId} is not on node ${n.nodeId}.` }
  if (c.type === "UpdateAllocation") {
    return { ok: true, event: { type: "AllocationUpdated", data: { allocationId: c.allocationId, ...(c.name === undefined ? {} : { name: c.name }), ...(c.extra === undefined ? {} : { extra: c.extra }) } } }
  }
  if (!n.maintenance && ["deploying", "wait call-back", "active", "deleting", "rescue", "rescuing", "rescue wait"].includes(n.provisionState)) {
    return { ok: false, code: "Conflict", message: `Allocation ${c.allocationId} can not be removed while node ${n.nodeId} is in state "${n.provisionState}"; undeploy the node (which frees it) or set maintenance.` }
  }
  return { ok: true, event: { type: "AllocationRemoved", data: { allocationId: c.allocationId } } }
}
