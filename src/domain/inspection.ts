// Inspection's decisions (ADR 0058): the ramdisk's inventory is taken once per inspection, while the
// node waits for it, with a port for each MAC the node lacks; the properties it sets are recorded
// with their values before and after.
import * as E from "fp-ts/lib/Either.js"
import type { NodeCommand } from "./commands.ts"
import { domainError, type DomainError } from "./errors.ts"
import type { NodeEvent } from "./events.ts"
import type { NodeState } from "./node-state.ts"

type Decision = E.Either<DomainError, ReadonlyArray<NodeEvent>>

/** Whether the running inspection already has its inventory. */
export const inventoryReceived = (s: NodeState): boolean =>
  s.inventory !== null && s.operation !== null && s.inventory.operationId === s.operation.id

export const decideInventory = (s: NodeState, c: Extract<NodeCommand, { type: "AcceptInventory" }>): Decision => {
  if (s.provisionState !== "inspect wait" || s.cleaningRamdisk === null) {
    return E.left(domainError("CallbackRefused", s.nodeId, "inventory", s.provisionState, `Node ${s.nodeId} is not waiting for an inventory (state "${s.provisionState}").`))
  }
  if (inventoryReceived(s)) {
    return E.left(domainError("CallbackRefused", s.nodeId, "inventory", s.provisionState, "The inspection already has its inventory."))
  }
  const known = new Set(s.ports.map((p) => p.mac))
  const seen = new Set<string>()
  const ports: Array<NodeEvent> = []
  for (const p of c.newPorts) {
    if (known.has(p.mac) || seen.has(p.mac) || s.ports.some((q) => q.portId === p.portId)) continue
    seen.add(p.mac)
    ports.push({ type: "PortAdded", data: { portId: p.portId, mac: p.mac } })
  }
  const rules: Array<NodeEvent> = c.rules === undefined ? [] : [{ type: "InspectionRulesApplied", data: c.rules }]
  return E.right([{ type: "InventoryReceived", data: { inventory: c.inventory, ...(c.rootDisk === undefined ? {} : { rootDisk: c.rootDisk }) } }, ...ports, ...rules])
}

/** The properties whose value `after` sets differently than `before` held, in `after`'s order. */
export const propertyChanges = (before: Readonly<Record<string, unknown>>, after: Readonly<Record<string, unknown>>) =>
  Object.entries(after)
    .filter(([k, v]) => JSON.stringify(before[k] ?? null) !== JSON.stringify(v ?? null))
    .map(([property, v]) => ({ property, before: before[property] ?? null, after: v }))
