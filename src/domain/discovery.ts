// Discovery's decision (ADR 0090): an unknown machine's post becomes a new node in one append, its
// record (enrolled with the inventory's properties), the `Discovered` mark, the inventory as posted
// and a port for each of its MACs. Only an empty stream takes it: a node is discovered once.
import * as E from "fp-ts/lib/Either.js"
import type { Driver, DriverInfo, NodeEvent, NodeInterfaces } from "./events.ts"
import { domainError, type DomainError } from "./errors.ts"
import type { NodeState } from "./node-state.ts"
import type { Mac, Uuid } from "./values.ts"

export interface DiscoverCommand {
  readonly type: "Discover"
  readonly nodeId: Uuid
  readonly driver: Driver
  readonly driverInfo: DriverInfo
  readonly interfaces: NodeInterfaces
  readonly properties: Record<string, unknown>
  readonly inventory: Record<string, unknown>
  readonly rootDisk?: string
  readonly bmcAddress: string | null
  readonly source: string | null
  readonly autoEnroll: boolean
  readonly ports: ReadonlyArray<{ readonly portId: Uuid; readonly mac: Mac }>
  /** What the inspection rules did with the post (ADR 0143); absent: there are none. */
  readonly rules?: import("./events.ts").EventDataOf<"InspectionRulesApplied">
}

export const decideDiscovery = (state: NodeState | null, c: DiscoverCommand): E.Either<DomainError, ReadonlyArray<NodeEvent>> => {
  if (state !== null) return E.left(domainError("AlreadyExists", c.nodeId, "discover", state.provisionState, `Node ${c.nodeId} already exists.`))
  if (c.ports.length === 0) return E.left(domainError("InvalidInput", c.nodeId, "discover", "absent", "A discovered machine needs at least one MAC address."))
  const macs = new Set(c.ports.map((p) => p.mac))
  const ids = new Set(c.ports.map((p) => p.portId))
  if (macs.size !== c.ports.length || ids.size !== c.ports.length) {
    return E.left(domainError("InvalidInput", c.nodeId, "discover", "absent", "A discovered machine's ports must have distinct MACs and ids."))
  }
  return E.right([
    {
      type: "Enrolled",
      data: {
        nodeId: c.nodeId, name: null, driver: c.driver, driverInfo: c.driverInfo, interfaces: c.interfaces,
        properties: c.properties, instanceInfo: {}, extra: {},
      },
    },
    { type: "Discovered", data: { bmcAddress: c.bmcAddress, source: c.source, autoEnroll: c.autoEnroll } },
    { type: "InventoryReceived", data: { inventory: c.inventory, ...(c.rootDisk === undefined ? {} : { rootDisk: c.rootDisk }) } },
    ...c.ports.map((p): NodeEvent => ({ type: "PortAdded", data: { portId: p.portId, mac: p.mac } })),
    ...(c.rules === undefined ? [] : [{ type: "InspectionRulesApplied", data: c.rules } as NodeEvent]),
  ])
}
