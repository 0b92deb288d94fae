// The start-up pass over a TFTP tree (ADR 0120): the one walk of every MAC link, so that no later
// operation needs one. A link to a node whose config is gone is debris and goes; a link to a live
// node that its record of MACs does not list (a tree written before records existed, or a crash
// between link and record) is added to the record, so that the node's clean removes it.
// Links that name no node directory of ours are left alone: they are not ours.
import type { Mac, Uuid } from "../../domain/values.ts"
import type { BootTree } from "./boot-tree.ts"

export interface Reconciled {
  readonly links: number
  /** The MACs whose debris link went: a DHCP server started from the tree still lists them. */
  readonly removed: ReadonlyArray<Mac>
  readonly adopted: number
}

/** How many nodes are looked at together: the walk is I/O-bound, not a burst of thousands of calls. */
const CONCURRENCY = 32

const eachOf = async <A>(items: ReadonlyArray<A>, work: (item: A) => Promise<void>) => {
  let next = 0
  const lane = async () => { while (next < items.length) await work(items[next++]!) }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, lane))
}

export const reconcileTree = async (tree: BootTree): Promise<Reconciled> => {
  const byNode = new Map<Uuid, Mac[]>()
  const all = await tree.links()
  for (const { mac, nodeId } of all) {
    if (nodeId === null) continue
    const macs = byNode.get(nodeId)
    if (macs === undefined) byNode.set(nodeId, [mac])
    else macs.push(mac)
  }
  const removed: Mac[] = []
  let adopted = 0
  await eachOf([...byNode], async ([nodeId, macs]) => {
    if (!(await tree.hasConfig(nodeId))) {
      for (const mac of macs) await tree.unlink(mac)
      removed.push(...macs)
      return
    }
    const recorded = await tree.macsOf(nodeId)
    const missing = macs.filter((mac) => !recorded.includes(mac))
    if (missing.length === 0) return
    await tree.recordMacs(nodeId, [...recorded, ...missing])
    adopted += missing.length
  })
  return { links: all.length, removed, adopted }
}
