// The start-up pass over a TFTP tree (ADR 0120): the one walk of every MAC link, so that no later
// operation needs one. A link to a node whose config is gone is debris and goes; a link to a live
// node that its record of MACs does not list (a tree written before records existed, or a crash
// between link and record) is added to the record, so that the node's clean removes it.
// Links that name no node directory of ours are left alone: they are not ours.
import type { Mac, Uuid } from "../../domain/values.ts"
import type { BootTree } from "./boot-tree.ts"

export interface Reconciled {
  readonly links: number
  readonly removed: number
  readonly adopted: number
}

export const reconcileTree = async (tree: BootTree): Promise<Reconciled> => {
  const byNode = new Map<Uuid, Mac[]>()
  const live = new Map<Uuid, boolean>()
  const all = await tree.links()
  let removed = 0
  for (const { mac, nodeId } of all) {
    if (nodeId === null) continue
    let alive = live.get(nodeId)
    if (alive === undefined) live.set(nodeId, alive = await tree.hasConfig(nodeId))
    if (!alive) {
      await tree.unlink(mac)
      removed++
      continue
    }
    const macs = byNode.get(nodeId)
    if (macs === undefined) byNode.set(nodeId, [mac])
    else macs.push(mac)
  }
  let adopted = 0
  for (const [nodeId, macs] of byNode) {
    const recorded = await tree.macsOf(nodeId)
    const missing = macs.filter((mac) => !recorded.includes(mac))
    if (missing.length === 0) continue
    await tree.recordMacs(nodeId, [...recorded, ...missing])
    adopted += missing.length
  }
  return { links: all.length, removed, adopted }
}
