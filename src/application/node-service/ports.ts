// A node's ports (its NICs' MACs): added, shown, listed, removed; a MAC belongs to one node at most.
import { Effect } from "effect"
import type { Uuid } from "../../domain/index.ts"
import { PortNotFound, type NodeService } from "../node-service.ts"
import { portViews } from "../projections/node-view.ts"
import type { NodeCore } from "./core.ts"

export const nodePorts = (core: NodeCore) => {
  const { fleet, ids, claiming, context, run, resolve } = core
  return {
    addPort: ({ nodeRef, mac }, actor) =>
      claiming([mac], (key) => (fleet.findByMac(key) === undefined ? null : `A port with MAC address ${key} already exists.`), Effect.gen(function* () {
        const node = yield* resolve(nodeRef)
        const portId = (yield* ids.uuid) as Uuid
        const r = yield* run(node.nodeId, { type: "AddPort", portId, mac }, yield* context(actor))
        return portViews(r.state).find((p) => p.uuid === portId)!
      })),
    getPort: (uuid) =>
      Effect.gen(function* () {
        const found = fleet.list().flatMap(portViews).find((p) => p.uuid === uuid)
        return found ?? (yield* Effect.fail(new PortNotFound({ ref: uuid })))
      }),
    listPorts: (filter, page) =>
      Effect.gen(function* () {
        const nodes = filter.nodeRef === undefined ? fleet.list() : [yield* resolve(filter.nodeRef)]
        const ports = nodes.flatMap(portViews)
          .filter((p) => filter.address === undefined || p.address === filter.address)
          .sort((a, b) => (a.uuid < b.uuid ? -1 : 1))
        const start = page.marker === undefined ? 0 : ports.findIndex((p) => p.uuid === page.marker) + 1
        return ports.slice(start, start + page.limit)
      }),
    removePort: (uuid, actor) =>
      Effect.gen(function* () {
        const owner = fleet.list().find((n) => n.ports.some((p) => p.portId === uuid))
        if (owner === undefined) return yield* Effect.fail(new PortNotFound({ ref: uuid }))
        yield* run(owner.nodeId, { type: "RemovePort", portId: uuid as Uuid }, yield* context(actor))
      }),
  } satisfies Partial<NodeService["Service"]>
}
