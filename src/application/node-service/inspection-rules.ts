// Inspection rules as use cases (ADR 0142), over the rule stream: every rule is checked by the
// domain's ruleProblems before it is stored, so a rule that is stored can run.
import * as Effect from "effect/Effect"
import { ruleProblems, type InspectionRule } from "../../domain/inspection-rules.ts"
import type { Uuid } from "../../domain/index.ts"
import type { InspectionRules, RuleChanges } from "../inspection/rules.ts"
import { InvalidInput, type NodeService } from "../node-service.ts"
import type { NodeCore } from "./core.ts"

const checked = (rule: Pick<InspectionRule, "conditions" | "actions">) => {
  const problems = ruleProblems(rule)
  return problems.length === 0 ? Effect.void
    : Effect.fail(new InvalidInput({ reason: problems.length === 1 ? problems[0]! : `Multiple validation errors occurred: ${problems.join("; ")}` }))
}

export const inspectionRuleUses = (core: NodeCore, rules: InspectionRules) => {
  const { ids, context, withStore } = core
  return {
    inspectionRules: () => withStore(rules.all),
    inspectionRule: (ref: string) => withStore(rules.get(ref)),
    createInspectionRule: (input: Omit<InspectionRule, "uuid"> & { readonly uuid?: Uuid }, actor: string) =>
      Effect.gen(function* () {
        yield* checked(input)
        const uuid = input.uuid ?? ((yield* ids.uuid) as Uuid)
        return yield* withStore(rules.create({ ...input, uuid }, yield* context(actor)))
      }),
    updateInspectionRule: (ref: string, changes: RuleChanges, actor: string) =>
      Effect.gen(function* () {
        const was = yield* withStore(rules.get(ref))
        if (was.sensitive && changes.sensitive === false) return yield* Effect.fail(new InvalidInput({ reason: "Inspection rules cannot have the sensitive flag unset." }))
        yield* checked({ conditions: changes.conditions ?? was.conditions, actions: changes.actions ?? was.actions })
        return yield* withStore(rules.update(was.uuid, changes, yield* context(actor)))
      }),
    removeInspectionRule: (ref: string, actor: string) =>
      Effect.flatMap(context(actor), (ctx) => withStore(rules.remove(ref, ctx))),
  } satisfies Partial<NodeService["Service"]>
}
