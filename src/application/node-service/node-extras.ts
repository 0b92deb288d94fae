// Use cases decided against the node's own stream rather than a copy read before: one trait
// added or removed (the read-modify-write of a client's PUT .../traits/X would lose one of two
// concurrent adds), and Neutron's port events (API 1.54), recorded on the node whose port has the MAC.
import * as Effect from "effect/Effect"
import { asConflict, type NodeCore } from "./core.ts"
import type { NetworkEventInput, NodeService } from "../node-service.ts"

export const nodeExtras = (core: NodeCore) => {
  const { fleet, context, run, resolve } = core
  return {
    addTrait: (ref: string, trait: string, max: number, actor: string) =>
      Effect.gen(function* () {
        const node = yield* resolve(ref)
        yield* run(node.nodeId, { type: "AddTrait", trait, max }, yield* context(actor)).pipe(asConflict)
      }),
    removeTrait: (ref: string, trait: string, actor: string) =>
      Effect.gen(function* () {
        const node = yield* resolve(ref)
        yield* run(node.nodeId, { type: "RemoveTrait", trait }, yield* context(actor)).pipe(asConflict)
      }),
    recordNetworkEvents: (events: ReadonlyArray<NetworkEventInput>, actor: string) =>
      Effect.gen(function* () {
        const ctx = yield* context(actor)
        let recorded = 0
        for (const e of events) {
          const mac = e.macAddress.toLowerCase()
          const node = fleet.findByMac(mac)
          // Ironic only logs these; ironledger keeps those about its nodes' ports in their history.
          if (node === undefined) continue
          yield* run(node.nodeId, { type: "RecordNetworkEvent", event: e }, ctx)
          recorded++
        }
        return recorded
      }),
  } satisfies Partial<NodeService["Service"]>
}
