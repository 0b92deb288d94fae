// A node polled by many clients (operators' dashboards, `baremetal --wait`) is read again and again
// in the same state: its view is built once per state and kept while that state is current. The
// cache is bounded (oldest first out), so an idle fleet costs nothing and a large one a fixed amount.
import type { NodeState } from "../../domain/index.ts"
import type { Progress } from "../projections/node-view.ts"

interface Entry<V> { readonly state: NodeState; readonly progress: Progress; readonly view: V }

/**
 * `build` memoised on the node's state object (states are immutable: every event makes a new one)
 * and its write progress, for at most `size` nodes. The views it returns are shared: never mutated.
 */
export const cachedViews = <V>(build: (n: NodeState, progress: Progress) => V, size: number) => {
  const entries = new Map<string, Entry<V>>()
  return (n: NodeState, progress: Progress): V => {
    const hit = entries.get(n.nodeId)
    if (hit !== undefined && hit.state === n && hit.progress === progress) return hit.view
    const view = build(n, progress)
    if (hit !== undefined) entries.delete(n.nodeId)
    else if (entries.size >= size) entries.delete(entries.keys().next().value!)
    entries.set(n.nodeId, { state: n, progress, view })
    return view
  }
}
