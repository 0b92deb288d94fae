// Deploy templates as use cases (API 1.55), over the template stream.
import * as Effect from "effect/Effect"
import type { DeployStep, Uuid } from "../../domain/index.ts"
import type { DeployTemplates, TemplateChanges } from "../deploy-templates.ts"
import type { NodeService } from "../node-service.ts"
import type { NodeCore } from "./core.ts"

export const deployTemplateUses = (core: NodeCore, templates: DeployTemplates) => {
  const { ids, context, withStore } = core
  return {
    deployTemplates: () => withStore(templates.all),
    deployTemplate: (ref: string) => withStore(templates.get(ref)),
    createDeployTemplate: (input: { readonly uuid?: Uuid; readonly name: string; readonly steps: ReadonlyArray<DeployStep>; readonly extra: Record<string, unknown> }, actor: string) =>
      Effect.gen(function* () {
        const uuid = input.uuid ?? ((yield* ids.uuid) as Uuid)
        return yield* withStore(templates.create({ uuid, name: input.name, steps: input.steps, extra: input.extra }, yield* context(actor)))
      }),
    updateDeployTemplate: (ref: string, changes: TemplateChanges, actor: string) =>
      Effect.flatMap(context(actor), (ctx) => withStore(templates.update(ref, changes, ctx))),
    removeDeployTemplate: (ref: string, actor: string) =>
      Effect.flatMap(context(actor), (ctx) => withStore(templates.remove(ref, ctx))),
  } satisfies Partial<NodeService["Service"]>
}
