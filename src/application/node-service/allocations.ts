// Allocations: find a node that matches, bind it through its own stream (the append decides who
// wins a race), and show allocations as the nodes hold them. An allocation that found no node
// binds nothing; it is answered in state "error" and recorded in the failed-allocations stream
// (failed-allocations.ts), so it survives a restart and a replay.
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import { failedAllocations } from "./failed-allocations.ts"
import { parseUuid, type AllocationRecord, type AllocationState, type NodeState, type Uuid } from "../../domain/index.ts"
import type { CommandContext } from "../execute.ts"
import {
  AllocationNotFound, Conflict, InvalidInput, Refused,
  type AllocationFilter, type AllocationInput, type AllocationView, type NodeService, type Page,
} from "../node-service.ts"
import { candidates } from "../scheduler.ts"
import type { NodeCore } from "./core.ts"

const viewOf = (a: AllocationState, node: NodeState): AllocationView => ({
  uuid: a.allocationId, name: a.name, nodeUuid: node.nodeId, state: "active", lastError: null,
  resourceClass: a.resourceClass, traits: a.traits, candidateNodes: a.candidateNodes, extra: a.extra,
  owner: a.owner, properties: a.properties, createdAt: a.createdAt, updatedAt: a.updatedAt ?? null,
})

export const nodeAllocations = (core: NodeCore) => {
  const { fleet, ids, context, run, resolve, withStore } = core
  const failedLog = failedAllocations()
  /** The failed allocations, caught up with the log. */
  const failedNow = withStore(failedLog.current)

  /** The allocations bound to nodes, from the fleet's allocation index (no walk over the fleet). */
  const bound = (): Array<AllocationView> => [...fleet.allocated()].map((n) => viewOf(n.allocation!, n))

  /** By uuid among bound and failed allocations, then by name among both. */
  const findIn = (failed: ReadonlyMap<string, AllocationView>, ref: string): AllocationView | undefined => {
    const boundTo = (by: "allocation" | "allocation-name", key: string) => {
      const n = fleet.findByPart(by, key)
      return n === undefined ? undefined : viewOf(n.allocation!, n)
    }
    const uuid = ref.toLowerCase()
    return boundTo("allocation", uuid) ?? failed.get(uuid) ?? boundTo("allocation-name", ref) ?? [...failed.values()].find((a) => a.name !== null && a.name === ref)
  }
  const findNow = (ref: string) => Effect.map(failedNow, (failed) => findIn(failed, ref))

  const fail = (record: AllocationRecord, ctx: CommandContext, error: string) =>
    Effect.map(withStore(failedLog.record(record, error, ctx)), (failed) => failed.get(record.allocationId)!)

  const allocate = (input: AllocationInput, actor: string) =>
    Effect.gen(function* () {
      const allocationId = input.uuid ?? ((yield* ids.uuid) as Uuid)
      const failedSeen = yield* failedNow
      const find = (ref: string) => findIn(failedSeen, ref)
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
      for (const node of candidates(fleet.idsInState("available"), (id) => fleet.get(id), record)) {
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
      return yield* fail(record, ctx, `No available nodes match the allocation${wanted === "" ? "" : ` (${wanted})`}` +
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
        const all = [...bound(), ...(yield* failedNow).values()].filter((a) => matches(a, filter, nodeId)).sort((a, b) => (a.uuid < b.uuid ? -1 : 1))
        const start = page.marker === undefined ? 0 : all.findIndex((a) => a.uuid === page.marker) + 1
        return all.slice(start, start + page.limit)
      }),
    allocation: (ref: string) =>
      Effect.flatMap(findNow(ref), (found) => (found === undefined ? Effect.fail(new AllocationNotFound({ ref })) : Effect.succeed(found))),
    updateAllocation: (ref: string, changes: { readonly name?: string | null; readonly extra?: Record<string, unknown> }, actor: string) =>
      Effect.gen(function* () {
        const found = yield* findNow(ref)
        if (found === undefined) return yield* Effect.fail(new AllocationNotFound({ ref }))
        if (changes.name != null && changes.name !== found.name && (yield* findNow(changes.name)) !== undefined) {
          return yield* Effect.fail(new Conflict({ reason: `An allocation with name ${changes.name} already exists.` }))
        }
        const ctx = yield* context(actor)
        if (found.nodeUuid === null) {
          const failed = yield* withStore(failedLog.update(found.uuid, changes, ctx))
          return failed.get(found.uuid)!
        }
        const id = E.getOrElse(() => found.uuid as Uuid)(parseUuid(found.uuid))
        const r = yield* run(found.nodeUuid, { type: "UpdateAllocation", allocationId: id, ...changes }, ctx)
        return viewOf(r.state.allocation!, r.state)
      }),
    removeAllocation: (ref: string, actor: string) =>
      Effect.gen(function* () {
        const found = yield* findNow(ref)
        if (found === undefined) return yield* Effect.fail(new AllocationNotFound({ ref }))
        if (found.nodeUuid === null) {
          yield* withStore(failedLog.remove(found.uuid, yield* context(actor)))
          return
        }
        const id = E.getOrElse(() => found.uuid as Uuid)(parseUuid(found.uuid))
        yield* run(found.nodeUuid, { type: "RemoveAllocation", allocationId: id }, yield* context(actor))
      }),
  } satisfies Partial<NodeService["Service"]>
}
