// A node's port groups (Ironic's, API 1.23/1.26): a bond of some of its ports, with its own MAC,
// name, bonding mode and properties. Port groups live in their node's stream beside its ports, so
// a port joining a group and the group's removal are ordered by the stream's optimistic append.
import * as t from "io-ts"
import { Mac, Uuid } from "./values.ts"

const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null])

export const PortgroupFields = t.type({
  address: Nullable(Mac),
  name: Nullable(t.string),
  /** The bonding mode (Linux bonding driver's names); Ironic's default is active-backup. */
  mode: t.string,
  properties: t.UnknownRecord,
  standalonePortsSupported: t.boolean,
  extra: t.UnknownRecord,
}, "PortgroupFields")
export type PortgroupFields = t.TypeOf<typeof PortgroupFields>

export const portgroupEventData = {
  PortgroupCreated: t.type({ portgroupId: Uuid, fields: PortgroupFields }),
  PortgroupUpdated: t.type({ portgroupId: Uuid, changes: t.partial(PortgroupFields.props) }),
  PortgroupDeleted: t.type({ portgroupId: Uuid }),
}

export interface PortgroupState extends PortgroupFields {
  readonly portgroupId: Uuid
  readonly createdAt: string
  readonly updatedAt: string | null
}

export type PortgroupCommand =
  | { readonly type: "CreatePortgroup"; readonly portgroupId: Uuid; readonly fields: PortgroupFields }
  | { readonly type: "UpdatePortgroup"; readonly portgroupId: Uuid; readonly changes: Partial<PortgroupFields> }
  | { readonly type: "DeletePortgroup"; readonly portgroupId: Uuid }

type PortgroupEvent = { [K in keyof typeof portgroupEventData]: { readonly type: K; readonly data: t.TypeOf<(typeof portgroupEventData)[K]> } }[keyof typeof portgroupEventData]

interface Node {
  readonly nodeId: string
  readonly provisionState: string
  readonly portgroups: ReadonlyArray<PortgroupState>
  readonly ports: ReadonlyArray<{ readonly portId: string; readonly portgroupId?: string | null }>
}

export type PortgroupDecision =
  | { readonly ok: true; readonly event: PortgroupEvent }
  | { readonly ok: false; readonly code: "NotFound" | "Conflict" | "InvalidInput" | "AlreadyExists"; readonly message: string }

const membersOf = (n: Node, portgroupId: string) => n.ports.filter((p) => p.portgroupId === portgroupId).map((p) => p.portId)

export const decidePortgroup = (n: Node, c: PortgroupCommand): PortgroupDecision => {
  const existing = n.portgroups.find((g) => g.portgroupId === c.portgroupId)
  if (c.type === "CreatePortgroup") {
    if (existing) return { ok: false, code: "AlreadyExists", message: `A port group with UUID ${c.portgroupId} already exists.` }
    return { ok: true, event: { type: "PortgroupCreated", data: { portgroupId: c.portgroupId, fields: c.fields } } }
  }
  if (!existing) return { ok: false, code: "NotFound", message: `Port group ${c.portgroupId} could not be found on node ${n.nodeId}.` }
  // Ironic: ports and port groups are not changed while the node is being inspected.
  if (n.provisionState === "inspecting") {
    return { ok: false, code: "Conflict", message: `Cannot change port group "${c.portgroupId}" on node "${n.nodeId}" while it is in state "inspecting".` }
  }
  if (c.type === "DeletePortgroup") {
    const members = membersOf(n, c.portgroupId)
    if (members.length > 0) {
      return { ok: false, code: "InvalidInput", message: `Cannot complete the requested action because port group ${c.portgroupId} contains ports (${members.join(", ")}).` }
    }
    return { ok: true, event: { type: "PortgroupDeleted", data: { portgroupId: c.portgroupId } } }
  }
  return { ok: true, event: { type: "PortgroupUpdated", data: { portgroupId: c.portgroupId, changes: c.changes } } }
}

/** The node's port groups after a port group event. */
export const evolvePortgroups = (groups: ReadonlyArray<PortgroupState>, e: PortgroupEvent, at: string): ReadonlyArray<PortgroupState> => {
  switch (e.type) {
    case "PortgroupCreated": return [...groups, { portgroupId: e.data.portgroupId, ...e.data.fields, createdAt: at, updatedAt: null }]
    case "PortgroupUpdated": return groups.map((g) => (g.portgroupId === e.data.portgroupId ? { ...g, ...e.data.changes, updatedAt: at } : g))
    case "PortgroupDeleted": return groups.filter((g) => g.portgroupId !== e.data.portgroupId)
  }
}
