// Changes to a node that must be decided against its state as the log has it, not against a copy a
// client read before: adding or removing one trait (two adds sent together must both land), a
// fault (Ironic's node.fault) the conductor records or clears, and a network event Neutron sent
// about one of the node's ports (API 1.54).
import * as t from "io-ts"
import type { PortState } from "./port-record.ts"

const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null])

/** Ironic's faults (ironic/common/faults.py) that ironledger records. */
export const faults = ["power failure", "clean failure", "rescue abort failure"] as const
export type Fault = (typeof faults)[number]

export const nodeExtrasEventData = {
  /** The conductor put the node in maintenance because of a fault; `reason` is the maintenance reason. */
  FaultRecorded: t.type({ fault: t.string, reason: t.string }),
  /** The fault went away (the BMC answers again): maintenance it caused is lifted. */
  FaultCleared: t.type({ fault: t.string }),
  /** A Neutron port event (network.bind_port, ...), as Ironic's POST /v1/events accepts it. */
  NetworkEventReceived: t.type({
    event: t.string, portId: t.string, macAddress: t.string, status: t.string,
    deviceId: Nullable(t.string), hostId: Nullable(t.string), vnicType: Nullable(t.string),
    /** The node's port with that MAC, if any. */
    nodePortId: Nullable(t.string),
  }),
  /** A user set an indicator (an LED, API 1.63) and the BMC took it. */
  IndicatorSet: t.type({ component: t.string, name: t.string, state: t.string }),
}

export type NetworkEvent = t.TypeOf<typeof nodeExtrasEventData.NetworkEventReceived>

export type NodeExtrasCommand =
  | { readonly type: "AddTrait"; readonly trait: string; readonly max: number }
  | { readonly type: "RemoveTrait"; readonly trait: string }
  | { readonly type: "RecordFault"; readonly fault: Fault; readonly reason: string }
  | { readonly type: "ClearFault"; readonly fault: Fault }
  | { readonly type: "RecordNetworkEvent"; readonly event: Omit<NetworkEvent, "nodePortId"> }
  | { readonly type: "RecordIndicator"; readonly component: string; readonly name: string; readonly state: string }

type ExtrasEvent =
  | { readonly type: "NodeUpdated"; readonly data: { readonly traits: Array<string> } }
  | { readonly type: "FaultRecorded"; readonly data: t.TypeOf<typeof nodeExtrasEventData.FaultRecorded> }
  | { readonly type: "FaultCleared"; readonly data: t.TypeOf<typeof nodeExtrasEventData.FaultCleared> }
  | { readonly type: "NetworkEventReceived"; readonly data: NetworkEvent }
  | { readonly type: "IndicatorSet"; readonly data: t.TypeOf<typeof nodeExtrasEventData.IndicatorSet> }

interface Node {
  readonly nodeId: string
  readonly traits: ReadonlyArray<string>
  readonly maintenance: boolean
  /** Absent in states restored from older snapshots. */
  readonly fault?: string | null
  readonly ports: ReadonlyArray<PortState>
}

export type ExtrasDecision =
  | { readonly ok: true; readonly events: ReadonlyArray<ExtrasEvent> }
  | { readonly ok: false; readonly code: "NotFound" | "InvalidInput" | "Conflict"; readonly message: string }

const events = (...e: ReadonlyArray<ExtrasEvent>): ExtrasDecision => ({ ok: true, events: e })

export const decideNodeExtras = (s: Node, c: NodeExtrasCommand): ExtrasDecision => {
  switch (c.type) {
    case "AddTrait": {
      if (s.traits.includes(c.trait)) return events()
      if (s.traits.length >= c.max) return { ok: false, code: "InvalidInput", message: `A node may have at most ${c.max} traits.` }
      return events({ type: "NodeUpdated", data: { traits: [...s.traits, c.trait].sort() } })
    }
    case "RemoveTrait":
      if (!s.traits.includes(c.trait)) return { ok: false, code: "NotFound", message: `Node ${s.nodeId} doesn't have a trait ${JSON.stringify(c.trait.slice(0, 80))}.` }
      return events({ type: "NodeUpdated", data: { traits: s.traits.filter((x) => x !== c.trait) } })
    case "RecordFault":
      // Ironic records a fault once; an operator's maintenance is not overwritten by one.
      if ((s.fault ?? null) === c.fault || (s.maintenance && (s.fault ?? null) === null)) return events()
      return events({ type: "FaultRecorded", data: { fault: c.fault, reason: c.reason } })
    case "ClearFault":
      return (s.fault ?? null) === c.fault ? events({ type: "FaultCleared", data: { fault: c.fault } }) : events()
    case "RecordNetworkEvent": {
      const port = s.ports.find((p) => p.mac === c.event.macAddress.toLowerCase())
      return events({ type: "NetworkEventReceived", data: { ...c.event, nodePortId: port?.portId ?? null } })
    }
    case "RecordIndicator":
      return events({ type: "IndicatorSet", data: { component: c.component, name: c.name, state: c.state } })
  }
}

/**
 * A cleaning that fails while one of its clean steps failed puts the node in maintenance with
 * fault "clean failure", as Ironic's cleaning_error_handler does when a clean step was running
 * (an operator's maintenance reason is kept).
 */
export const cleanFailureFault = (
  s: Node & { readonly provisionState: string; readonly maintenanceReason: string | null; readonly operation: { readonly steps: ReadonlyArray<{ readonly step: string; readonly outcome: string }> } | null },
  error: string,
): ReadonlyArray<ExtrasEvent> =>
  (s.provisionState === "cleaning" || s.provisionState === "clean wait") &&
  s.operation?.steps.some((o) => o.outcome === "failed" && o.step.includes(":clean-step:")) === true
    ? [{ type: "FaultRecorded", data: { fault: "clean failure", reason: s.maintenanceReason ?? error } }]
    : []
