// The fleet in UUID order for paging (GET /v1/nodes): kept sorted between lists instead of sorting
// every node for every page. Nodes never leave the fleet's map (a deleted one keeps its entry with
// `deleted`), and a Map iterates in insertion order, so the nodes added since the last list are the
// map's last entries: only those are sorted, then merged in. A list costs O(page) when the
// membership did not change, O(fleet) pointer walk plus O(new·log new) when it did.
import type { NodeState } from "../domain/index.ts"
import type { Fleet } from "./projections/fleet.ts"

interface Order { readonly ids: Array<string>; seen: number }

const orders = new WeakMap<Fleet, Order>()

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

const merge = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): Array<string> => {
  const out = new Array<string>(a.length + b.length)
  let i = 0, j = 0, k = 0
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!
  while (i < a.length) out[k++] = a[i++]!
  while (j < b.length) out[k++] = b[j++]!
  return out
}

/** Every node id the fleet has ever held (deleted ones too), sorted. */
const sortedIds = (fleet: Fleet): ReadonlyArray<string> => {
  let order = orders.get(fleet)
  if (order === undefined) orders.set(fleet, order = { ids: [], seen: 0 })
  // A map that shrank (entries dropped) is sorted again from scratch.
  if (fleet.nodes.size < order.seen) orders.set(fleet, order = { ids: [], seen: 0 })
  if (fleet.nodes.size !== order.seen) {
    const added: Array<string> = []
    let i = 0
    for (const id of fleet.nodes.keys()) if (i++ >= order.seen) added.push(id)
    added.sort(byId)
    const merged = order.ids.length === 0 ? added : merge(order.ids, added)
    orders.set(fleet, order = { ids: merged, seen: fleet.nodes.size })
  }
  return order.ids
}

/** First index whose id is >= `id`. */
const lowerBound = (ids: ReadonlyArray<string>, id: string): number => {
  let lo = 0, hi = ids.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ids[mid]! < id) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Up to `limit` live nodes that `matches`, in UUID order, after the node `marker` (from the first
 * one when the marker is no live node). The walk stops as soon as the page is full.
 */
export const fleetPage = (
  fleet: Fleet, matches: (n: NodeState) => boolean, limit: number, marker?: string,
): Array<NodeState> => {
  const ids = sortedIds(fleet)
  let start = 0
  if (marker !== undefined && fleet.get(marker) !== undefined) {
    const at = lowerBound(ids, marker)
    if (ids[at] === marker) start = at + 1
  }
  const page: Array<NodeState> = []
  for (let i = start; i < ids.length && page.length < limit; i++) {
    const n = fleet.nodes.get(ids[i]!)
    if (n !== undefined && !n.deleted && matches(n)) page.push(n)
  }
  return page
}
