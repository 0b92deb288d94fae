// A node polled by many clients (operators' dashboards, `baremetal --wait`) is read again and again
// in the same state: its view is built once per state and kept while that state is current. The
// cache is bounded (oldest first out), so an idle fleet costs nothing and a large one a fixed amount.
// A node is kept from its second read in one state on (ADR 0185): a view kept on its first read
// outlived the young generation's collections and died in the old one, so readers spread over
// 100,000 nodes turned the cache into a stream of major collections.
import type { NodeState } from "../../domain/index.ts"
import type { Progress } from "../projections/node-view.ts"

interface Entry<V> { readonly state: NodeState; readonly progress: Progress; readonly view: V }

/** Drops the oldest key once `map` holds `size` and `key` is new. */
const makeRoom = (map: Map<string, unknown>, key: string, size: number) => {
  if (!map.has(key) && map.size >= size) map.delete(map.keys().next().value!)
}

/**
 * `build` memoised on the node's state object (states are immutable: every event makes a new one)
 * and its write progress, for at most `size` nodes. The views it returns are shared: never mutated.
 */
export const cachedViews = <V>(build: (n: NodeState, progress: Progress) => V, size: number) => {
  const entries = new Map<string, Entry<V>>()
  /** Nodes read once in their current state and not kept: the state only (it lives in the fleet anyway). */
  const seen = new Map<string, NodeState>()
  return (n: NodeState, progress: Progress): V => {
    const hit = entries.get(n.nodeId)
    if (hit !== undefined && hit.state === n && hit.progress === progress) return hit.view
    const view = build(n, progress)
    if (hit === undefined && seen.get(n.nodeId) !== n) {
      makeRoom(seen, n.nodeId, size)
      seen.set(n.nodeId, n)
      return view
    }
    seen.delete(n.nodeId)
    if (hit !== undefined) entries.delete(n.nodeId)
    else makeRoom(entries, n.nodeId, size)
    entries.set(n.nodeId, { state: n, progress, view })
    return view
  }
}
