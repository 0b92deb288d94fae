// A node's ports (its NICs' MACs): added, shown, listed, removed; a MAC belongs to one node at most.
import * as Effect from "effect/Effect"
import type { PortSettings, Uuid } from "../../domain/index.ts"
import { PortNotFound, type NodeService, type PortChanges } from "../node-service.ts"
import { portViews } from "../projections/node-view.ts"
import { lowerBound } from "../projections/id-order.ts"
import type { NodeCore } from "./core.ts"

export const nodePorts = (core: NodeCore) => {
  const { fleet, ids, claiming, context, run, resolve } = core
  const portOf = (uuid: string) => {
    const owner = fleet.findByPart("port", uuid)
    return owner === undefined ? undefined : portViews(owner).find((p) => p.uuid === uuid)
  }
  /** Up to `limit` ports after `marker` (from the first when the marker is no live port), in uuid order. */
  const portsPage = (marker: string | undefined, limit: number) => {
    const order = fleet.portIds()
    let start = 0
    if (marker !== undefined) {
      const at = lowerBound(order, marker)
      if (order[at] === marker) start = at + 1
    }
    return order.slice(start, start + limit).map((uuid) => portOf(uuid)!)
  }
  return {
    addPort: ({ nodeRef, mac, settings }, actor) =>
      claiming([mac], (key) => (fleet.findByMac(key) === undefined ? null : `A port with MAC address ${key} already exists.`), Effect.gen(function* () {
        const node = yield* resolve(nodeRef)
        const portId = (yield* ids.uuid) as Uuid
        const r = yield* run(node.nodeId, { type: "AddPort", portId, mac, ...(settings === undefined ? {} : { settings }) }, yield* context(actor))
        return portViews(r.state).find((p) => p.uuid === portId)!
      })),
    getPort: (uuid) =>
      Effect.gen(function* () {
        const found = portOf(uuid)
        return found ?? (yield* Effect.fail(new PortNotFound({ ref: uuid })))
      }),
    listPorts: (filter, page) =>
      Effect.gen(function* () {
        // By address or by node: that node's ports. Otherwise the fleet's ports in order, and only
        // the page's are looked at (Nova and Neutron list ports often; a fleet has 100,000 of them).
        if (filter.nodeRef === undefined && filter.address === undefined) return portsPage(page.marker, page.limit)
        const holder = filter.nodeRef === undefined ? fleet.findByMac(filter.address!) : yield* resolve(filter.nodeRef)
        const ports = (holder === undefined ? [] : portViews(holder))
          .filter((p) => filter.address === undefined || p.address === filter.address)
          .sort((a, b) => (a.uuid < b.uuid ? -1 : 1))
        const start = page.marker === undefined ? 0 : ports.findIndex((p) => p.uuid === page.marker) + 1
        return ports.slice(start, start + page.limit)
      }),
    removePort: (uuid, actor) =>
      Effect.gen(function* () {
        const owner = fleet.findByPart("port", uuid)
        if (owner === undefined) return yield* Effect.fail(new PortNotFound({ ref: uuid }))
        yield* run(owner.nodeId, { type: "RemovePort", portId: uuid as Uuid }, yield* context(actor))
      }),
    updatePort: (uuid: string, changes: PortChanges, actor: string) => {
      const owner = fleet.findByPart("port", uuid)
      if (owner === undefined) return Effect.fail(new PortNotFound({ ref: uuid }))
      const current = owner.ports.find((p) => p.portId === uuid)!
      const { address, ...rest } = changes
      const moving = address !== undefined && address !== current.mac
      const settings: PortSettings = { ...rest, ...(moving ? { mac: address } : {}) }
      // A new MAC is claimed as a new port's is: unique across the fleet.
      return claiming(moving ? [address] : [], (key) => (fleet.findByMac(key) === undefined ? null : `A port with MAC address ${key} already exists.`),
        Effect.gen(function* () {
          const r = yield* run(owner.nodeId, { type: "UpdatePort", portId: uuid as Uuid, changes: settings }, yield* context(actor))
          return portViews(r.state).find((p) => p.uuid === uuid)!
        }))
    },
    vifs: (ref: string) => Effect.map(resolve(ref), (n) => n.ports.flatMap((p) => (p.vifId === undefined ? [] : [p.vifId]))),
    attachVif: (ref: string, vifId: string, portUuid: string | undefined, actor: string) =>
      Effect.gen(function* () {
        const node = yield* resolve(ref)
        yield* run(node.nodeId, { type: "AttachVif", vifId, ...(portUuid === undefined ? {} : { portId: portUuid as Uuid }) }, yield* context(actor))
      }),
    detachVif: (ref: string, vifId: string, actor: string) =>
      Effect.gen(function* () {
        const node = yield* resolve(ref)
        yield* run(node.nodeId, { type: "DetachVif", vifId }, yield* context(actor))
      }),
  } satisfies Partial<NodeService["Service"]>
}
