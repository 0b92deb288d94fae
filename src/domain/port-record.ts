// A port's settings beyond its MAC (Ironic's extra, pxe_enabled, local_link_connection,
// physical_network) and the VIF plugged into it (Ironic's internal_info.tenant_vif_port_id),
// with the rules for changing them. Ports live in their node's stream, so two requests that
// would plug into the same port are ordered by the stream's optimistic append.
import * as t from "io-ts"
import { Mac, Uuid } from "./values.ts"

const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null])

export const PortSettings = t.partial({
  mac: Mac,
  extra: t.UnknownRecord,
  pxeEnabled: t.boolean,
  localLinkConnection: t.UnknownRecord,
  physicalNetwork: Nullable(t.string),
  /** The port group (of the same node) the port belongs to (API 1.24). */
  portgroupId: Nullable(Uuid),
  /** A Smart NIC port (API 1.53): needs local_link_connection's port_id and hostname. */
  isSmartnic: t.boolean,
}, "PortSettings")
export type PortSettings = t.TypeOf<typeof PortSettings>

export const portEventData = {
  PortUpdated: t.type({ portId: Uuid, changes: PortSettings }),
  VifAttached: t.type({ portId: Uuid, vifId: t.string }),
  VifDetached: t.type({ portId: Uuid, vifId: t.string }),
}

export interface PortState extends PortSettings {
  readonly portId: Uuid
  readonly mac: Mac
  readonly addedAt: string
  /** The tenant VIF plugged into the port, if any. */
  readonly vifId?: string
  readonly updatedAt?: string
}

export type PortCommand =
  | { readonly type: "UpdatePort"; readonly portId: Uuid; readonly changes: PortSettings }
  | { readonly type: "AttachVif"; readonly vifId: string; readonly portId?: Uuid }
  | { readonly type: "DetachVif"; readonly vifId: string }

type PortEvent =
  | { readonly type: "PortUpdated"; readonly data: t.TypeOf<typeof portEventData.PortUpdated> }
  | { readonly type: "VifAttached"; readonly data: t.TypeOf<typeof portEventData.VifAttached> }
  | { readonly type: "VifDetached"; readonly data: t.TypeOf<typeof portEventData.VifDetached> }

interface Node {
  readonly nodeId: string
  readonly ports: ReadonlyArray<PortState>
  readonly portgroups?: ReadonlyArray<{ readonly portgroupId: string }>
}

/** Why a port with these settings can not be on the node, or null (Ironic's port checks). */
export const portSettingsRefusal = (s: Node, portId: string, settings: PortSettings): string | null => {
  const group = settings.portgroupId
  if (group != null && !(s.portgroups ?? []).some((g) => g.portgroupId === group)) {
    return `Port group ${group} is not a port group of node ${s.nodeId}: port ${portId} and its port group must be on the same node.`
  }
  if (settings.isSmartnic === true) {
    const llc = settings.localLinkConnection ?? {}
    if (typeof llc["port_id"] !== "string" || typeof llc["hostname"] !== "string") {
      return `Smart NIC port ${portId} needs local_link_connection with port_id and hostname.`
    }
  }
  return null
}

export type PortDecision =
  | { readonly ok: true; readonly events: ReadonlyArray<PortEvent> }
  | { readonly ok: false; readonly code: "NotFound" | "Conflict" | "InvalidInput"; readonly message: string }

const refused = (code: "NotFound" | "Conflict" | "InvalidInput", message: string): PortDecision => ({ ok: false, code, message })

export const decidePort = (s: Node, c: PortCommand): PortDecision => {
  switch (c.type) {
    case "UpdatePort": {
      const port = s.ports.find((p) => p.portId === c.portId)
      if (!port) return refused("NotFound", `Port ${c.portId} could not be found on node ${s.nodeId}.`)
      if (c.changes.mac !== undefined && c.changes.mac !== port.mac && port.vifId !== undefined) {
        return refused("Conflict", `Cannot update hardware address for port ${port.portId} as it is attached to VIF ${port.vifId}.`)
      }
      const why = portSettingsRefusal(s, port.portId, { ...port, ...c.changes })
      if (why !== null) return refused("InvalidInput", why)
      return { ok: true, events: [{ type: "PortUpdated", data: { portId: port.portId, changes: c.changes } }] }
    }
    case "AttachVif": {
      const holder = s.ports.find((p) => p.vifId === c.vifId)
      if (holder) return refused("Conflict", `Unable to attach VIF ${c.vifId} because it is already attached to port ${holder.portId} of node ${s.nodeId}.`)
      const free = s.ports.filter((p) => p.vifId === undefined)
      const port = c.portId !== undefined
        ? s.ports.find((p) => p.portId === c.portId)
        // Ironic's choice: a free port, PXE-enabled ones first.
        : [...free].sort((a, b) => Number(b.pxeEnabled ?? true) - Number(a.pxeEnabled ?? true))[0]
      if (c.portId !== undefined && port === undefined) return refused("NotFound", `Port ${c.portId} could not be found on node ${s.nodeId}.`)
      if (port === undefined) return refused("InvalidInput", `Unable to attach VIF ${c.vifId}, not enough free physical ports on node ${s.nodeId}.`)
      if (port.vifId !== undefined) return refused("Conflict", `Port ${port.portId} already has VIF ${port.vifId} attached.`)
      return { ok: true, events: [{ type: "VifAttached", data: { portId: port.portId, vifId: c.vifId } }] }
    }
    case "DetachVif": {
      const port = s.ports.find((p) => p.vifId === c.vifId)
      if (!port) return refused("InvalidInput", `VIF ${c.vifId} is not attached to node ${s.nodeId}.`)
      return { ok: true, events: [{ type: "VifDetached", data: { portId: port.portId, vifId: c.vifId } }] }
    }
  }
}

/** The node's ports after a port event. */
export const evolvePorts = (ports: ReadonlyArray<PortState>, e: PortEvent, at: string): ReadonlyArray<PortState> =>
  ports.map((p) => {
    if (p.portId !== e.data.portId) return p
    switch (e.type) {
      case "PortUpdated": return { ...p, ...e.data.changes, updatedAt: at }
      case "VifAttached": return { ...p, vifId: e.data.vifId, updatedAt: at }
      case "VifDetached": {
        const { vifId: _gone, ...rest } = p
        return { ...rest, updatedAt: at }
      }
    }
  })
