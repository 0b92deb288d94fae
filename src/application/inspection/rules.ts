// Inspection rules (ADR 0142) belong to no node: they live in their own stream,
// "inspection-rules" (ADR 0109), so every process sharing the log applies the same rules and a
// UUID is unique because each change is decided on the stream as it is.
import * as Effect from "effect/Effect"
import * as t from "io-ts"
import * as E from "fp-ts/lib/Either.js"
import type { InspectionRule } from "../../domain/inspection-rules.ts"
import type { StoredMeta } from "../../ports/index.ts"
import type { CommandContext } from "../execute.ts"
import { Conflict, InvalidInput } from "../node-service.ts"
import { ResourceNotFound } from "../node-parts.ts"
import { makeSideStream, type SideEvent } from "../side-stream.ts"

export const inspectionRulesStream = "inspection-rules"

export interface StoredInspectionRule extends InspectionRule {
  readonly createdAt: string
  readonly updatedAt: string | null
}

const Operation = t.type({ op: t.string, args: t.union([t.UnknownRecord, t.UnknownArray]) })
const RuleFields = t.type({
  uuid: t.string, description: t.union([t.string, t.null]), priority: t.number, sensitive: t.boolean,
  phase: t.literal("main"), conditions: t.array(Operation), actions: t.array(Operation),
})
const codecs = {
  InspectionRuleCreated: RuleFields,
  InspectionRuleUpdated: t.intersection([t.type({ uuid: t.string }), t.partial({
    description: t.union([t.string, t.null]), priority: t.number, sensitive: t.boolean, phase: t.literal("main"),
    conditions: t.array(Operation), actions: t.array(Operation),
  })]),
  InspectionRuleDeleted: t.type({ uuid: t.string }),
}

type Rules = ReadonlyMap<string, StoredInspectionRule>
export type RuleChanges = Partial<Omit<InspectionRule, "uuid">>

const fold = (s: Rules, e: SideEvent, meta: StoredMeta): Rules => {
  const next = new Map(s)
  if (e.type === "InspectionRuleCreated") {
    const d = e.data as InspectionRule
    next.set(d.uuid, { ...d, createdAt: meta.occurredAt, updatedAt: null })
  } else if (e.type === "InspectionRuleUpdated") {
    const { uuid, ...changes } = e.data as { uuid: string } & RuleChanges
    const was = next.get(uuid)
    if (was !== undefined) next.set(uuid, { ...was, ...changes, updatedAt: meta.occurredAt })
  } else if (e.type === "InspectionRuleDeleted") {
    next.delete((e.data as { uuid: string }).uuid)
  }
  return next
}

export type RuleStoreError = ResourceNotFound | Conflict | InvalidInput

const metaOf = (ctx: CommandContext): StoredMeta =>
  ({ occurredAt: ctx.occurredAt, actor: ctx.actor, correlationId: ctx.correlationId, causationId: ctx.causationId })

const notFound = (ref: string) => new ResourceNotFound({ kind: "Inspection rule", ref })

export const makeInspectionRules = () => {
  const log = makeSideStream<Rules, RuleStoreError>(inspectionRulesStream, codecs, new Map(), fold)
  const one = (s: Rules, ref: string): E.Either<RuleStoreError, StoredInspectionRule> => {
    const found = s.get(ref.toLowerCase())
    return found === undefined ? E.left(notFound(ref)) : E.right(found)
  }
  return {
    /** Every rule, in creation order (the order equal priorities run in). */
    all: Effect.map(log.current, (s) => [...s.values()]),
    get: (ref: string) => Effect.flatMap(log.current, (s): Effect.Effect<StoredInspectionRule, RuleStoreError> => {
      const found = one(s, ref)
      return E.isLeft(found) ? Effect.fail(found.left) : Effect.succeed(found.right)
    }),
    create: (rule: InspectionRule, ctx: CommandContext) =>
      Effect.map(log.write((s) => s.has(rule.uuid)
        ? E.left(new Conflict({ reason: `Inspection rule with UUID ${rule.uuid} already exists.` }))
        : E.right([{ type: "InspectionRuleCreated", data: { ...rule } }]), metaOf(ctx)), (s) => s.get(rule.uuid)!),
    update: (ref: string, changes: RuleChanges, ctx: CommandContext) =>
      Effect.gen(function* () {
        let uuid = ""
        const s = yield* log.write((s) => E.map((found: StoredInspectionRule) => {
          uuid = found.uuid
          return [{ type: "InspectionRuleUpdated", data: { uuid, ...changes } }]
        })(one(s, ref)), metaOf(ctx))
        return s.get(uuid)!
      }),
    remove: (ref: string, ctx: CommandContext) =>
      Effect.asVoid(log.write((s) => E.map((found: StoredInspectionRule) => [{ type: "InspectionRuleDeleted", data: { uuid: found.uuid } }])(one(s, ref)), metaOf(ctx))),
  }
}

export type InspectionRules = ReturnType<typeof makeInspectionRules>
