// Allocations: find a node that matches, bind it through its own stream (the append decides who
// wins a race), and show allocations as the nodes hold them. An allocation that found no node
// binds nothing; it is answered in state "error" and kept in this process's memory only.
import { Effect } from "effect"
import * as E from "fp-ts/lib/Either.js"
import { parseUuid, type AllocationRecord, type AllocationState, type NodeState, type Uuid } from "../../domain/index.ts"
import {
  AllocationNotFound, InvalidInput, Refused,
  type AllocationFilter, type AllocationInput, type AllocationView, type NodeService, type Page,
} from "../node-service.ts"
import { candidates } from "../scheduler.ts"
import type { NodeCore } from "./core.ts"

/** Failed allocations kept for clients to read their last_error; the oldest go first. */
const maxFailed = 1000

const viewOf = (a: AllocationState, node: NodeState): AllocationView => ({
  uuid: a.allocationId, name: a.name, nodeUuid: node.nodeId, state: "active", lastError: null,
  resourceClass: a.resourceClass, traits: a.traits, candidateNodes: a.candidateNodes, extra: a.extra,
  owner: a.owner, properties: a.properties, createdAt: a.createdAt, updatedAt: null,
})

export const nodeAllocations = (core: NodeCore) => {
  const { fleet, ids, context, run, resolve } = core
  const failed = new Map<string, AllocationView>()

  const bound = (): Array<AllocationView> =>
    fleet.list().flatMap((n) => (n.allocation === null ? [] : [viewOf(n.allocation, n)]))

  const find = (ref: string): AllocationView | undefined => {
    const all = [...bound(), ...failed.values()]
    return all.find((a) => a.uuid === ref.toLowerCase()) ?? all.find((a) => a.name !== null && a.name === ref)
  }

  const fail = (record: AllocationRecord, at: string, error: string): AllocationView => {
    const view: AllocationView = {
      uuid: record.allocationId, name: record.name, nodeUuid: null, state: "error", lastError: error,
      resourceClass: record.resourceClass, traits: record.traits, candidateNodes: record.candidateNodes,
      extra: record.extra, owner: record.owner, properties: record.properties, createdAt: at, updatedAt: at,
    }
    failed.set(view.uuid, view)
    if (failed.size > maxFailed) failed.delete(failed.keys().next().value!)
    return view
  }

  const allocate = (input: AllocationInput, actor: string) =>
    Effect.gen(function* () {
      const allocationId = input.uuid ?? ((yield* ids.uuid) as Uuid)
      if (find(allocationId) !== undefined) return yield* Effect.fail(new InvalidInput({ reason: `An allocation with UUID ${allocationId} already exists.` }))
      if (input.name !== null && find(input.name) !== undefined) return yield* Effect.fail(new InvalidInput({ reason: `An allocation with name ${input.name} already exists.` }))
      // Candidates are stored by UUID, as Ironic does; an unknown one is the caller's mistake.
      const candidateNodes: Array<string> = []
      for (const ref of input.candidateNodes) {
        const node = yield* Effect.mapError(resolve(ref), () => new InvalidInput({ reason: `Candidate node ${ref} could not be found.` }))
        candidateNodes.push(node.nodeId)
      }
      const record: AllocationRecord = {
        allocationId, name: input.name, resourceClass: input.resourceClass, traits: [...input.traits], candidateNodes,
        extra: input.extra, owner: input.owner, properties: input.properties, backfill: input.node !== undefined,
      }
      const ctx = yield* context(actor)
      if (input.node !== undefined) {
        const node = yield* resolve(input.node)
        const r = yield* run(node.nodeId, { type: "AssignAllocation", allocation: record }, ctx)
        return viewOf(r.state.allocation!, r.state)
      }
      const tried: Array<string> = []
      for (const node of candidates(fleet.inState("available"), record)) {
        const r = yield* Effect.result(run(node.nodeId, { type: "AssignAllocation", allocation: record }, ctx))
        if (r._tag === "Success") return viewOf(r.success.state.allocation!, r.success.state)
        // Another request took the node between the match and the append: try the next one.
        if (r.failure instanceof Refused && r.failure.error.code === "Conflict") {
          tried.push(node.nodeId)
          continue
        }
        return yield* Effect.fail(r.failure)
      }
      const wanted = [
        input.resourceClass === null ? null : `resource class ${input.resourceClass}`,
        record.traits.length === 0 ? null : `traits ${record.traits.join(", ")}`,
        Object.keys(record.properties).length === 0 ? null : `properties ${JSON.stringify(record.properties)}`,
      ].filter((s) => s !== null).join(", ")
      return fail(record, ctx.occurredAt, `No available nodes match the allocation${wanted === "" ? "" : ` (${wanted})`}` +
        `${candidateNodes.length === 0 ? "" : ` among candidate nodes ${candidateNodes.join(", ")}`}` +
        `${tried.length === 0 ? "" : `; nodes taken by concurrent allocations: ${tried.join(", ")}`}.`)
    })

  const matches = (a: AllocationView, f: AllocationFilter, nodeId: string | undefined) =>
    (f.state === undefined || a.state === f.state) && (f.resourceClass === undefined || a.resourceClass === f.resourceClass) &&
    (f.owner === undefined || a.owner === f.owner) && (nodeId === undefined || a.nodeUuid === nodeId)

  return {
    allocate,
    allocations: (filter: AllocationFilter, page: Page) =>
      Effect.gen(function* () {
        const nodeId = filter.node === undefined ? undefined : (yield* resolve(filter.node)).nodeId
        const all = [...bound(), ...failed.values()].filter((a) => matches(a, filter, nodeId)).sort((a, b) => (a.uuid < b.uuid ? -1 : 1))
        const start = page.marker === undefined ? 0 : all.findIndex((a) => a.uuid === page.marker) + 1
        return all.slice(start, start + page.limit)
      }),
    allocation: (ref: string) => {
      const found = find(ref)
      return found === undefined ? Effect.fail(new AllocationNotFound({ ref })) : Effect.succeed(found)
    },
    removeAllocation: (ref: string, actor: string) =>
      Effect.gen(function* () {
        const found = find(ref)
        if (found === undefined) return yield* Effect.fail(new AllocationNotFound({ ref }))
        if (found.nodeUuid === null) {
          failed.delete(found.uuid)
          return
        }
        const id = E.getOrElse(() => found.uuid as Uuid)(parseUuid(found.uuid))
        yield* run(found.nodeUuid, { type: "RemoveAllocation", allocationId: id }, yield* context(actor))
      }),
  } satisfies Partial<NodeService["Service"]>
}
