// The fleet in UUID order for paging (GET /v1/nodes): kept sorted between lists instead of sorting
// every node for every page. Nodes never leave the fleet's map (a deleted one keeps its entry with
// `deleted`), and a Map iterates in insertion order, so the nodes added since the last list are the
// map's last entries: only those are sorted, then merged in. A list costs O(page) when the
// membership did not change; a few new nodes are inserted into a short run beside the long one,
// which takes them in (an O(fleet) merge) once per square root of the fleet's size of them.
import type { NodeState } from "../domain/index.ts"
import type { Fleet } from "./projections/fleet.ts"

/**
 * Every node id the fleet has ever held (deleted ones too), sorted, in two runs: `main`, and the few
 * ids added since it was last merged (`recent`, kept sorted by insertion). Merging every new node into
 * `main` at once cost O(fleet) per list after each enroll (tens of ms at 100,000 nodes, ADR 0182);
 * merged once `recent` outgrows the square root of the fleet, that cost is spread thin.
 */
interface Order { main: Array<string>; recent: Array<string>; seen: number; readonly walk: Iterator<string> }

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

const fresh = (fleet: Fleet): Order => {
  const order = { main: [], recent: [], seen: 0, walk: fleet.nodes.keys() }
  orders.set(fleet, order)
  return order
}

const orderOf = (fleet: Fleet): Order => {
  let order = orders.get(fleet)
  // A map that shrank (entries dropped) is sorted again from scratch.
  if (order === undefined || fleet.nodes.size < order.seen) order = fresh(fleet)
  if (fleet.nodes.size === order.seen) return order
  // The ids added since the last list come from the map's own iterator, kept open between lists: a
  // Map iterator goes on to entries added after it was made, and it is advanced exactly once per new
  // entry, so it is never exhausted and the fleet is never walked again from its start.
  const added: Array<string> = []
  while (order.seen < fleet.nodes.size) {
    const next = order.walk.next()
    if (next.done === true) { fresh(fleet); return orderOf(fleet) }
    added.push(next.value)
    order.seen++
  }
  const most = Math.max(16, Math.sqrt(order.main.length))
  if (added.length + order.recent.length > most) {
    added.sort(byId)
    order.main = merge(order.main, order.recent.length === 0 ? added : merge(order.recent, added))
    order.recent = []
  } else {
    for (const id of added) order.recent.splice(lowerBound(order.recent, id), 0, id)
  }
  return order
}

/** First index whose id is >= `id`. */
export const lowerBound = (ids: ReadonlyArray<string>, id: string): number => {
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
  const { main, recent } = orderOf(fleet)
  let i = 0, j = 0
  if (marker !== undefined && fleet.get(marker) !== undefined) {
    // The marker is in one of the two runs; each is walked from the first id after it.
    i = lowerBound(main, marker)
    if (main[i] === marker) i++
    j = lowerBound(recent, marker)
    if (recent[j] === marker) j++
  }
  const page: Array<NodeState> = []
  while (page.length < limit && (i < main.length || j < recent.length)) {
    const id = j >= recent.length || (i < main.length && main[i]! < recent[j]!) ? main[i++]! : recent[j++]!
    const n = fleet.nodes.get(id)
    if (n !== undefined && !n.deleted && matches(n)) page.push(n)
  }
  return page
}
