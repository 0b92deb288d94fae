// What auditors ask of the service: a node's history (filtered, paged), the node and the fleet as
// they were at an instant. A deleted node's history stays readable by UUID: auditors need it most then.
import * as Effect from "effect/Effect"
import { historyFor, stateAtFor } from "../audit.ts"
import { fleetAt } from "../fleet-at.ts"
import { historyMatcher } from "../history-filter.ts"
import type { HistoryEntry, NodeService } from "../node-service.ts"
import type { NodeCore } from "./core.ts"

export const nodeHistory = (core: NodeCore) => {
  const { withStore, resolve, fleet } = core
  return {
    history: (ref, page) =>
      Effect.gen(function* () {
        const node = yield* resolve(ref, true)
        const entries = yield* withStore(historyFor(node.nodeId))
        const wanted = historyMatcher(page.filter)
        return entries.filter((e) => e.revision > (page.afterRevision ?? -1) && wanted(e)).slice(0, page.limit)
      }),
    stateAt: (ref, at) => Effect.flatMap(resolve(ref, true), (node) => withStore(stateAtFor(node.nodeId, at))),
    fleetAt: (at) => withStore(fleetAt(at)),
    instanceHistory: (instanceUuid) =>
      Effect.gen(function* () {
        const found: Array<HistoryEntry & { readonly nodeUuid: string }> = []
        // Every node ever known, deleted ones too: an instance may have outlived its first node.
        for (const nodeId of [...fleet.nodes.keys()]) {
          for (const e of yield* withStore(historyFor(nodeId))) if (e.instanceUuid === instanceUuid) found.push({ ...e, nodeUuid: nodeId })
        }
        return found.sort((a, b) => a.position - b.position)
      }),
  } satisfies Partial<NodeService["Service"]>
}
