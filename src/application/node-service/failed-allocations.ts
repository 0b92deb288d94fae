// Allocations that found no node (state "error"): they bind no node, so they live in a stream of
// their own, "allocations-failed", and a restart or a replay shows them as clients left them.
// Ironic keeps them until deleted; so does ironledger.
import * as t from "io-ts"
import * as E from "fp-ts/lib/Either.js"
import { AllocationRecord } from "../../domain/index.ts"
import type { CommandContext } from "../execute.ts"
import { AllocationNotFound, type AllocationView } from "../node-service.ts"
import { makeSideStream, type SideEvent } from "../side-stream.ts"
import type { StoredMeta } from "../../ports/index.ts"

export const failedAllocationsStream = "allocations-failed"

const codecs = {
  AllocationFailed: t.type({ allocation: AllocationRecord, error: t.string }),
  FailedAllocationUpdated: t.intersection([t.type({ allocationId: t.string }), t.partial({ name: t.union([t.string, t.null]), extra: t.UnknownRecord })]),
  FailedAllocationRemoved: t.type({ allocationId: t.string }),
}

type Failed = ReadonlyMap<string, AllocationView>

const fold = (s: Failed, e: SideEvent, meta: StoredMeta): Failed => {
  const next = new Map(s)
  if (e.type === "AllocationFailed") {
    const { allocation: a, error } = e.data as t.TypeOf<typeof codecs.AllocationFailed>
    next.set(a.allocationId, {
      uuid: a.allocationId, name: a.name, nodeUuid: null, state: "error", lastError: error,
      resourceClass: a.resourceClass, traits: a.traits, candidateNodes: a.candidateNodes,
      extra: a.extra, owner: a.owner, properties: a.properties, createdAt: meta.occurredAt, updatedAt: meta.occurredAt,
    })
  } else if (e.type === "FailedAllocationUpdated") {
    const d = e.data as t.TypeOf<typeof codecs.FailedAllocationUpdated>
    const was = next.get(d.allocationId)
    if (was !== undefined) {
      next.set(d.allocationId, { ...was, ...(d.name === undefined ? {} : { name: d.name }), ...(d.extra === undefined ? {} : { extra: d.extra }), updatedAt: meta.occurredAt })
    }
  } else if (e.type === "FailedAllocationRemoved") {
    next.delete((e.data as { allocationId: string }).allocationId)
  }
  return next
}

const metaOf = (ctx: CommandContext): StoredMeta =>
  ({ occurredAt: ctx.occurredAt, actor: ctx.actor, correlationId: ctx.correlationId, causationId: ctx.causationId })

export const failedAllocations = () => {
  const log = makeSideStream<Failed, AllocationNotFound>(failedAllocationsStream, codecs, new Map(), fold)
  const present = (id: string) => (s: Failed) => (s.has(id) ? E.right(undefined) : E.left(new AllocationNotFound({ ref: id })))
  return {
    current: log.current,
    record: (allocation: AllocationRecord, error: string, ctx: CommandContext) =>
      log.write(() => E.right([{ type: "AllocationFailed", data: { allocation, error } }]), metaOf(ctx)),
    update: (allocationId: string, changes: { readonly name?: string | null; readonly extra?: Record<string, unknown> }, ctx: CommandContext) =>
      log.write((s) => E.map(() => [{ type: "FailedAllocationUpdated", data: { allocationId, ...changes } }])(present(allocationId)(s)), metaOf(ctx)),
    remove: (allocationId: string, ctx: CommandContext) =>
      log.write((s) => E.map(() => [{ type: "FailedAllocationRemoved", data: { allocationId } }])(present(allocationId)(s)), metaOf(ctx)),
  }
}
