// Deploy templates (Ironic's, API 1.55): a named set of deploy steps; a deploy runs the steps of
// each template named by one of the instance's traits. They belong to no node, so they live in
// their own stream, "deploy-templates": names and UUIDs are unique because every change is
// decided on the stream as it is and appended with its expected revision.
import * as Effect from "effect/Effect"
import * as t from "io-ts"
import * as E from "fp-ts/lib/Either.js"
import { DeployStep } from "../domain/index.ts"
import type { StoredMeta } from "../ports/index.ts"
import type { CommandContext } from "./execute.ts"
import { Conflict, DeployTemplateNotFound, InvalidInput } from "./node-service.ts"
import { makeSideStream, type SideEvent } from "./side-stream.ts"

export const deployTemplatesStream = "deploy-templates"


export interface DeployTemplate {
  readonly uuid: string
  readonly name: string
  readonly steps: ReadonlyArray<DeployStep>
  readonly extra: Record<string, unknown>
  readonly createdAt: string
  readonly updatedAt: string | null
}

const TemplateFields = t.type({ uuid: t.string, name: t.string, steps: t.array(DeployStep), extra: t.UnknownRecord })
const codecs = {
  DeployTemplateCreated: TemplateFields,
  DeployTemplateUpdated: t.intersection([t.type({ uuid: t.string }), t.partial({ name: t.string, steps: t.array(DeployStep), extra: t.UnknownRecord })]),
  DeployTemplateDeleted: t.type({ uuid: t.string }),
}

type Templates = ReadonlyMap<string, DeployTemplate>

const fold = (s: Templates, e: SideEvent, meta: StoredMeta): Templates => {
  const next = new Map(s)
  if (e.type === "DeployTemplateCreated") {
    const d = e.data as t.TypeOf<typeof TemplateFields>
    next.set(d.uuid, { ...d, createdAt: meta.occurredAt, updatedAt: null })
  } else if (e.type === "DeployTemplateUpdated") {
    const { uuid, ...changes } = e.data as t.TypeOf<typeof codecs.DeployTemplateUpdated>
    const was = next.get(uuid)
    if (was !== undefined) next.set(uuid, { ...was, ...changes, updatedAt: meta.occurredAt })
  } else if (e.type === "DeployTemplateDeleted") {
    next.delete((e.data as { uuid: string }).uuid)
  }
  return next
}

export type TemplateError = DeployTemplateNotFound | Conflict | InvalidInput

const find = (s: Templates, ref: string): DeployTemplate | undefined =>
  s.get(ref.toLowerCase()) ?? [...s.values()].find((x) => x.name === ref)

const metaOf = (ctx: CommandContext): StoredMeta =>
  ({ occurredAt: ctx.occurredAt, actor: ctx.actor, correlationId: ctx.correlationId, causationId: ctx.causationId })

export interface TemplateChanges {
  readonly name?: string
  readonly steps?: ReadonlyArray<DeployStep>
  readonly extra?: Record<string, unknown>
}

export const makeDeployTemplates = () => {
  const log = makeSideStream<Templates, TemplateError>(deployTemplatesStream, codecs, new Map(), fold)
  const nameTaken = (s: Templates, name: string, self: string | null) =>
    [...s.values()].some((x) => x.name === name && x.uuid !== self)
      ? E.left(new Conflict({ reason: `A deploy template with name ${name} already exists.` }))
      : E.right(undefined)
  const one = (s: Templates, ref: string): E.Either<TemplateError, DeployTemplate> => {
    const found = find(s, ref)
    return found === undefined ? E.left(new DeployTemplateNotFound({ ref })) : E.right(found)
  }
  return {
    all: Effect.map(log.current, (s) => [...s.values()].sort((a, b) => (a.uuid < b.uuid ? -1 : 1))),
    get: (ref: string) => Effect.flatMap(log.current, (s) => {
      const found = find(s, ref)
      return found === undefined ? Effect.fail(new DeployTemplateNotFound({ ref })) : Effect.succeed(found)
    }),
    create: (template: { readonly uuid: string; readonly name: string; readonly steps: ReadonlyArray<DeployStep>; readonly extra: Record<string, unknown> }, ctx: CommandContext) =>
      Effect.map(log.write((s) => {
        if (s.has(template.uuid)) return E.left(new Conflict({ reason: `A deploy template with UUID ${template.uuid} already exists.` }))
        return E.map(() => [{ type: "DeployTemplateCreated", data: { ...template, steps: [...template.steps] } }])(nameTaken(s, template.name, null))
      }, metaOf(ctx)), (s) => s.get(template.uuid)!),
    update: (ref: string, changes: TemplateChanges, ctx: CommandContext) =>
      Effect.gen(function* () {
        let uuid = ""
        const s = yield* log.write((s) => {
          const found = one(s, ref)
          if (E.isLeft(found)) return found
          uuid = found.right.uuid
          const taken = changes.name === undefined ? E.right(undefined) : nameTaken(s, changes.name, uuid)
          return E.map(() => [{ type: "DeployTemplateUpdated", data: { uuid, ...changes } }])(taken)
        }, metaOf(ctx))
        return s.get(uuid)!
      }),
    remove: (ref: string, ctx: CommandContext) =>
      Effect.asVoid(log.write((s) => E.map((found: DeployTemplate) => [{ type: "DeployTemplateDeleted", data: { uuid: found.uuid } }])(one(s, ref)), metaOf(ctx))),
    /** The templates named by these traits (an instance's), as a deploy uses them. */
    matching: (traits: ReadonlyArray<string>) => Effect.map(log.current, (s) => [...s.values()].filter((x) => traits.includes(x.name))),
  }
}

export type DeployTemplates = ReturnType<typeof makeDeployTemplates>
