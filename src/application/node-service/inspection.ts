// Inspection's calls (ADR 0058): the ramdisk posts its inventory with the inspection's key (checked
// against its digest, in constant time; a node not waiting for one, or a wrong key, answers "not
// found" as pass_deploy_info does), and the stored inventory is read back.
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import { sameDigest, type Mac, type Uuid } from "../../domain/index.ts"
import { inspectedProperties, inventoryMacs, parseInventory } from "../inspection/inventory.ts"
import { applyRulesToInventory } from "../inspection/apply-rules.ts"
import type { InspectionRules } from "../inspection/rules.ts"
import { InvalidInput, NodeNotFound, type NodeService } from "../node-service.ts"
import type { NodeCore } from "./core.ts"

export const inspectionCalls = (core: NodeCore, rules: InspectionRules) => {
  const { secrets, context, run, resolve, ids, fleet, claiming, registry, withStore } = core

  const postInventory: NodeService["Service"]["postInventory"] = (ref, key, raw, rootDisk) =>
    Effect.gen(function* () {
      const n = yield* Effect.mapError(resolve(ref), () => new NodeNotFound({ ref }))
      const r = n.cleaningRamdisk
      if (n.provisionState !== "inspect wait" || r === null || !sameDigest(yield* secrets.digest(key), r.keyHash)) {
        return yield* Effect.fail(new NodeNotFound({ ref }))
      }
      const inventory = parseInventory(raw)
      if (E.isLeft(inventory)) return yield* Effect.fail(new InvalidInput({ reason: inventory.left }))
      // A MAC another node owns stays that node's: only MACs no node has become ports here.
      const mine = new Set(n.ports.map((p) => p.mac as string))
      const missing = inventoryMacs(inventory.right).filter((m) => !mine.has(m) && fleet.findByMac(m) === undefined)
      const newPorts: Array<{ portId: Uuid; mac: Mac }> = []
      for (const mac of missing) newPorts.push({ portId: (yield* ids.uuid) as Uuid, mac: mac as Mac })
      // The inspection rules, applied to the node as this inventory will leave it (ADR 0142).
      const applied = yield* applyRulesToInventory(yield* withStore(rules.all), n, raw as Record<string, unknown>,
        inspectedProperties(inventory.right, n.properties, rootDisk), registry, secrets)
      const ctx = yield* context("ramdisk", n.operation?.id)
      yield* claiming(missing, (m) => (fleet.findByMac(m) === undefined ? null : `A port with MAC address ${m} already exists.`),
        run(n.nodeId, { type: "AcceptInventory", inventory: { ...(raw as Record<string, unknown>) }, ...(rootDisk === undefined ? {} : { rootDisk }), newPorts, ...(applied === undefined ? {} : { rules: applied }) }, ctx))
    })

  const inventory: NodeService["Service"]["inventory"] = (ref) =>
    Effect.gen(function* () {
      const n = yield* resolve(ref)
      if (n.inventory === null) return yield* Effect.fail(new NodeNotFound({ ref: `${ref} (inventory)` }))
      return { inventory: n.inventory.data, receivedAt: n.inventory.receivedAt, ...(n.inventory.pluginData === undefined ? {} : { pluginData: n.inventory.pluginData }) }
    })

  return { postInventory, inventory } satisfies Partial<NodeService["Service"]>
}
