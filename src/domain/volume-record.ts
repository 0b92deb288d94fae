// A node's volume connectors and targets (Ironic's, API 1.32): how the node reaches remote storage
// (its initiator's IQN, WWPN, ...) and the volumes it may boot from. Stored and shown; the storage
// interface decides what is done with them ("noop", the only one, does nothing, as Ironic's noop).
// As in Ironic, they change only while the node is powered off (or may be deleted anyway).
import * as t from "io-ts"
import { NonNegativeInt, Uuid } from "./values.ts"

/** The connector types Ironic's clients offer. */
export const connectorTypes = ["iqn", "ip", "mac", "wwnn", "wwpn", "port", "portgroup"] as const
export const ConnectorType = t.keyof(Object.fromEntries(connectorTypes.map((k) => [k, null])) as Record<(typeof connectorTypes)[number], null>, "ConnectorType")

export const ConnectorFields = t.type({ type: ConnectorType, connectorId: t.string, extra: t.UnknownRecord }, "ConnectorFields")
export type ConnectorFields = t.TypeOf<typeof ConnectorFields>
export const TargetFields = t.type({
  volumeType: t.string, volumeId: t.string, bootIndex: NonNegativeInt, properties: t.UnknownRecord, extra: t.UnknownRecord,
}, "TargetFields")
export type TargetFields = t.TypeOf<typeof TargetFields>

export const volumeEventData = {
  VolumeConnectorCreated: t.type({ connectorId: Uuid, fields: ConnectorFields }),
  VolumeConnectorUpdated: t.type({ connectorId: Uuid, changes: t.partial(ConnectorFields.props) }),
  VolumeConnectorDeleted: t.type({ connectorId: Uuid }),
  VolumeTargetCreated: t.type({ targetId: Uuid, fields: TargetFields }),
  VolumeTargetUpdated: t.type({ targetId: Uuid, changes: t.partial(TargetFields.props) }),
  VolumeTargetDeleted: t.type({ targetId: Uuid }),
}

export interface VolumeConnectorState extends ConnectorFields {
  readonly uuid: Uuid
  readonly createdAt: string
  readonly updatedAt: string | null
}
export interface VolumeTargetState extends TargetFields {
  readonly uuid: Uuid
  readonly createdAt: string
  readonly updatedAt: string | null
}

export type VolumeCommand =
  | { readonly type: "CreateVolumeConnector"; readonly uuid: Uuid; readonly fields: ConnectorFields }
  | { readonly type: "UpdateVolumeConnector"; readonly uuid: Uuid; readonly changes: Partial<ConnectorFields> }
  | { readonly type: "DeleteVolumeConnector"; readonly uuid: Uuid }
  | { readonly type: "CreateVolumeTarget"; readonly uuid: Uuid; readonly fields: TargetFields }
  | { readonly type: "UpdateVolumeTarget"; readonly uuid: Uuid; readonly changes: Partial<TargetFields> }
  | { readonly type: "DeleteVolumeTarget"; readonly uuid: Uuid }

type VolumeEventData = typeof volumeEventData
export type VolumeEvent = { [K in keyof VolumeEventData]: { readonly type: K; readonly data: t.TypeOf<VolumeEventData[K]> } }[keyof VolumeEventData]

interface Node {
  readonly nodeId: string
  readonly provisionState: string
  readonly powerState: string | null
  readonly volumeConnectors: ReadonlyArray<VolumeConnectorState>
  readonly volumeTargets: ReadonlyArray<VolumeTargetState>
}

export type VolumeDecision =
  | { readonly ok: true; readonly event: VolumeEvent }
  | { readonly ok: false; readonly code: "NotFound" | "Conflict" | "AlreadyExists"; readonly message: string }

const refused = (code: "NotFound" | "Conflict" | "AlreadyExists", message: string): VolumeDecision => ({ ok: false, code, message })

/** Ironic: update needs power off; delete too, unless the node is in a state it may be deleted in. */
const powerRefusal = (n: Node, action: string, deleting: boolean): VolumeDecision | null =>
  n.powerState === "power off" || (deleting && ["manageable", "enroll", "adopt failed"].includes(n.provisionState))
    ? null
    : refused("Conflict", `The requested action "${action}" can not be performed on node "${n.nodeId}" while it is in power state "${n.powerState ?? "None"}"; power it off first.`)

export const decideVolume = (n: Node, c: VolumeCommand): VolumeDecision => {
  switch (c.type) {
    case "CreateVolumeConnector":
      if (n.volumeConnectors.some((v) => v.uuid === c.uuid)) return refused("AlreadyExists", `A volume connector with UUID ${c.uuid} already exists.`)
      return { ok: true, event: { type: "VolumeConnectorCreated", data: { connectorId: c.uuid, fields: c.fields } } }
    case "CreateVolumeTarget":
      if (n.volumeTargets.some((v) => v.uuid === c.uuid)) return refused("AlreadyExists", `A volume target with UUID ${c.uuid} already exists.`)
      if (n.volumeTargets.some((v) => v.bootIndex === c.fields.bootIndex)) {
        return refused("AlreadyExists", `A volume target with boot index '${c.fields.bootIndex}' for the same node already exists.`)
      }
      return { ok: true, event: { type: "VolumeTargetCreated", data: { targetId: c.uuid, fields: c.fields } } }
    case "UpdateVolumeConnector": case "DeleteVolumeConnector": {
      if (!n.volumeConnectors.some((v) => v.uuid === c.uuid)) return refused("NotFound", `Volume connector ${c.uuid} could not be found on node ${n.nodeId}.`)
      const deleting = c.type === "DeleteVolumeConnector"
      const why = powerRefusal(n, deleting ? "volume connector deletion" : "volume connector update", deleting)
      if (why) return why
      return { ok: true, event: deleting ? { type: "VolumeConnectorDeleted", data: { connectorId: c.uuid } } : { type: "VolumeConnectorUpdated", data: { connectorId: c.uuid, changes: c.changes } } }
    }
    case "UpdateVolumeTarget": case "DeleteVolumeTarget": {
      if (!n.volumeTargets.some((v) => v.uuid === c.uuid)) return refused("NotFound", `Volume target ${c.uuid} could not be found on node ${n.nodeId}.`)
      const deleting = c.type === "DeleteVolumeTarget"
      const why = powerRefusal(n, deleting ? "volume target deletion" : "volume target update", deleting)
      if (why) return why
      if (c.type === "UpdateVolumeTarget" && c.changes.bootIndex !== undefined &&
        n.volumeTargets.some((v) => v.uuid !== c.uuid && v.bootIndex === c.changes.bootIndex)) {
        return refused("AlreadyExists", `A volume target with boot index '${c.changes.bootIndex}' for the same node already exists.`)
      }
      return { ok: true, event: c.type === "DeleteVolumeTarget" ? { type: "VolumeTargetDeleted", data: { targetId: c.uuid } } : { type: "VolumeTargetUpdated", data: { targetId: c.uuid, changes: c.changes } } }
    }
  }
}

export interface VolumeParts {
  readonly volumeConnectors: ReadonlyArray<VolumeConnectorState>
  readonly volumeTargets: ReadonlyArray<VolumeTargetState>
}

/** The node's volume connectors and targets after a volume event. */
export const evolveVolumes = (v: VolumeParts, e: VolumeEvent, at: string): VolumeParts => {
  switch (e.type) {
    case "VolumeConnectorCreated": return { ...v, volumeConnectors: [...v.volumeConnectors, { uuid: e.data.connectorId, ...e.data.fields, createdAt: at, updatedAt: null }] }
    case "VolumeConnectorUpdated": return { ...v, volumeConnectors: v.volumeConnectors.map((c) => (c.uuid === e.data.connectorId ? { ...c, ...e.data.changes, updatedAt: at } : c)) }
    case "VolumeConnectorDeleted": return { ...v, volumeConnectors: v.volumeConnectors.filter((c) => c.uuid !== e.data.connectorId) }
    case "VolumeTargetCreated": return { ...v, volumeTargets: [...v.volumeTargets, { uuid: e.data.targetId, ...e.data.fields, createdAt: at, updatedAt: null }] }
    case "VolumeTargetUpdated": return { ...v, volumeTargets: v.volumeTargets.map((c) => (c.uuid === e.data.targetId ? { ...c, ...e.data.changes, updatedAt: at } : c)) }
    case "VolumeTargetDeleted": return { ...v, volumeTargets: v.volumeTargets.filter((c) => c.uuid !== e.data.targetId) }
  }
}
