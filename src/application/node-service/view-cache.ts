// A node polled by many clients (operators' dashboards, `baremetal --wait`) is read again and again
// in the same state: its view is built once per revision and kept while that revision is current. The
// cache is bounded (oldest first out), so an idle fleet costs nothing and a large one a fixed amount.
// A node is kept from its second read in one state on (ADR 0185): a view kept on its first read
// outlived the young generation's collections and died in the old one, so readers spread over
// 100,000 nodes turned the cache into a stream of major collections.
import type { NodeState } from "../../domain/index.ts"
import type { Progress } from "../projections/node-view.ts"

interface Entry<V> { readonly revision: number; readonly progress: Progress; readonly view: V }

/** Drops the oldest key once `map` holds `size` and `key` is new. */
const makeRoom = (map: Map<string, unknown>, key: string, size: number) => {
  if (!map.has(key) && map.size >= size) map.delete(map.keys().next().value!)
}

/**
 * `build` memoised on the node's revision (every event makes a new state with the next one, and a
 * node at rest woken again is the same revision in a new object, ADR 0200) and its write progress,
 * for at most `size` nodes. The views it returns are shared: never mutated.
 */
export const cachedViews = <V>(build: (n: NodeState, progress: Progress) => V, size: number) => {
  const entries = new Map<string, Entry<V>>()
  /** Nodes read once in their current revision and not kept: the revision only. */
  const seen = new Map<string, number>()
  /** The view kept for the node at this revision and progress, if any: found without the state. */
  const kept = (nodeId: string, revision: number, progress: Progress): V | undefined => {
    const hit = entries.get(nodeId)
    return hit !== undefined && hit.revision === revision && hit.progress === progress ? hit.view : undefined
  }
  const of = (n: NodeState, progress: Progress): V => {
    const hit = entries.get(n.nodeId)
    if (hit !== undefined && hit.revision === n.revision && hit.progress === progress) return hit.view
    const view = build(n, progress)
    if (hit === undefined && seen.get(n.nodeId) !== n.revision) {
      makeRoom(seen, n.nodeId, size)
      seen.set(n.nodeId, n.revision)
      return view
    }
    seen.delete(n.nodeId)
    if (hit !== undefined) entries.delete(n.nodeId)
    else makeRoom(entries, n.nodeId, size)
    entries.set(n.nodeId, { revision: n.revision, progress, view })
    return view
  }
  return { of, kept }
}
