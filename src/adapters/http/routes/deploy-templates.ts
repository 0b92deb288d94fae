// /v1/deploy_templates (API 1.55): named sets of deploy steps; a deploy runs the steps of each
// template named by one of the instance's traits (instance_info.traits). Validated as Ironic's
// TEMPLATE_SCHEMA: a trait for a name, at least one step, each {interface, step, args, priority}
// with no step named twice. Below 1.55 the endpoint is a 404, as in Ironic.
import * as t from "io-ts"
import type { DeployTemplate } from "../../../application/deploy-templates.ts"
import { deployStepInterfaces, duplicateSteps, type DeployStep, type Uuid } from "../../../domain/index.ts"
import { decodeOrThrow, isPlainObject, JsonObject, PatchDocument, strict, UuidInput, type PatchOperation } from "../codecs.ts"
import { noContent, ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest, notFound } from "../errors.ts"
import { links, parseFields, pickFields } from "../node-json.ts"
import { applyInside, pointer, refuseForbiddenKeys, valueOf } from "../patch.ts"
import { nextLink, pageOf } from "../query.ts"
import { checkTrait } from "./traits.ts"

const since55 = (ctx: RequestContext) => {
  if (ctx.version < 55) throw notFound("Deploy templates are available from API version 1.55.")
}

const interfaces = Object.keys(deployStepInterfaces).join(", ")
const Priority = new t.Type<number, number, unknown>("a whole number >= 0",
  (u): u is number => Number.isInteger(u) && (u as number) >= 0,
  (u, c) => (Number.isInteger(u) && (u as number) >= 0 ? t.success(u as number)
    : typeof u === "string" && /^\d{1,9}$/.test(u) ? t.success(Number(u)) : t.failure(u, c, `priority must be a whole number >= 0, got ${JSON.stringify(u)?.slice(0, 40)}`)),
  t.identity)
const StepName = new t.Type<string, string, unknown>("a step name", (u): u is string => typeof u === "string" && /^[a-z_][a-z0-9_]{0,99}$/.test(u),
  (u, c) => (typeof u === "string" && /^[a-z_][a-z0-9_]{0,99}$/.test(u) ? t.success(u) : t.failure(u, c, `step must be a step name (lower case, digits, "_"), got ${JSON.stringify(u)?.slice(0, 60)}`)),
  t.identity)
export const DeployStepInput = strict({
  interface: t.keyof(deployStepInterfaces, `one of ${interfaces}`), step: StepName, args: JsonObject, priority: Priority,
}, {}, "deploy step")

const TemplateCreate = strict({ name: t.string, steps: t.array(t.unknown) }, { uuid: t.union([UuidInput, t.null]), extra: t.union([JsonObject, t.null]) }, "deploy template")

const maxSteps = 50

/** Steps as a request sends them: decoded, at least one, none twice. */
export const checkSteps = (raw: ReadonlyArray<unknown>, what: string): Array<DeployStep> => {
  if (raw.length === 0) throw badRequest(`${what} must hold at least one step.`)
  if (raw.length > maxSteps) throw badRequest(`${what} may hold at most ${maxSteps} steps.`)
  const steps = raw.map((s, i) => {
    refuseForbiddenKeys(s, `${what}[${i}]`)
    return decodeOrThrow(DeployStepInput, s, `${what}[${i}]`) as DeployStep
  })
  const twice = duplicateSteps(steps)
  if (twice.length > 0) {
    throw badRequest(`Duplicate deploy steps. A template cannot have multiple deploy steps with the same interface and step. Duplicates: ${twice.join("; ")}`)
  }
  return steps
}

const document = (x: DeployTemplate, base: string): Record<string, unknown> => ({
  uuid: x.uuid, name: x.name, steps: x.steps, extra: x.extra,
  created_at: x.createdAt, updated_at: x.updatedAt, links: links(base, "deploy_templates", x.uuid),
})
const known = new Set(["uuid", "name", "steps", "extra", "created_at", "updated_at", "links"])

const create = async (ctx: RequestContext): Promise<Reply> => {
  since55(ctx)
  const raw = await ctx.body()
  refuseForbiddenKeys(raw, "deploy template")
  const body = decodeOrThrow(TemplateCreate, raw, "deploy template")
  const template = await run(ctx.service.createDeployTemplate({
    ...(body.uuid == null ? {} : { uuid: body.uuid as Uuid }),
    name: checkTrait(body.name), steps: checkSteps(body.steps, "steps"), extra: body.extra ?? {},
  }, ctx.actor))
  return { status: 201, body: document(template, ctx.base), headers: { Location: `${ctx.base}/v1/deploy_templates/${template.uuid}` } }
}

const listQuery = new Set(["fields", "detail", "limit", "marker", "sort_dir", "sort_key"])

const list = async (ctx: RequestContext): Promise<Reply> => {
  since55(ctx)
  for (const key of ctx.query.keys()) if (!listQuery.has(key)) throw badRequest(`Unknown argument ${JSON.stringify(key.slice(0, 40))}: GET /v1/deploy_templates accepts ${[...listQuery].join(", ")}.`)
  const detail = ctx.query.get("detail")
  if (detail !== null && !["true", "false", "True", "False", "1", "0"].includes(detail)) throw badRequest(`Invalid detail ${JSON.stringify(detail.slice(0, 40))}.`)
  const fields = parseFields(ctx.query.get("fields"))
  if (fields !== null && detail !== null && ["true", "True", "1"].includes(detail)) throw badRequest("Can not specify ?detail=True and fields in the same request.")
  const sortDir = ctx.query.get("sort_dir")
  if (sortDir !== null && sortDir !== "asc" && sortDir !== "desc") throw badRequest("sort_dir must be asc or desc.")
  const sortKey = ctx.query.get("sort_key") ?? "id"
  if (!["id", "uuid", "name", "created_at", "updated_at"].includes(sortKey)) throw badRequest(`The sort_key value ${JSON.stringify(sortKey.slice(0, 40))} is invalid.`)
  const page = pageOf(ctx.query)
  const all = [...await run(ctx.service.deployTemplates())]
  const by = sortKey === "id" ? "uuid" : sortKey === "created_at" ? "createdAt" : sortKey === "updated_at" ? "updatedAt" : sortKey as "uuid" | "name"
  all.sort((a, b) => String(a[by] ?? "").localeCompare(String(b[by] ?? "")) * (sortDir === "desc" ? -1 : 1))
  const start = page.marker === undefined ? 0 : all.findIndex((x) => x.uuid === page.marker!.toLowerCase()) + 1
  const found = all.slice(start, start + page.limit)
  const shown = fields ?? (detail !== null && ["true", "True", "1"].includes(detail) ? null : ["uuid", "name"])
  const next = nextLink(ctx.base, "/v1/deploy_templates", ctx.query, page.limit, found, found.length >= page.limit)
  return ok({ deploy_templates: found.map((x) => pickFields(document(x, ctx.base), shown, known)), ...(next === undefined ? {} : { next }) })
}

const show = async (ctx: RequestContext): Promise<Reply> => {
  since55(ctx)
  const x = await run(ctx.service.deployTemplate(ctx.params["template"]!))
  return ok(pickFields(document(x, ctx.base), parseFields(ctx.query.get("fields")), known))
}

/** PATCH paths: /name, /extra[/key...], /steps (all) and /steps/<i>[/<field>]. */
const patch = async (ctx: RequestContext): Promise<Reply> => {
  since55(ctx)
  const ops: ReadonlyArray<PatchOperation> = decodeOrThrow(PatchDocument, await ctx.body(), "JSON patch")
  const current = await run(ctx.service.deployTemplate(ctx.params["template"]!))
  const doc = structuredClone({ name: current.name as string, extra: current.extra, steps: current.steps as Array<unknown> })
  const touched = new Set<string>()
  for (const op of ops) {
    const [field, ...rest] = pointer(op.path)
    if (field !== "name" && field !== "extra" && field !== "steps") {
      throw badRequest(`Cannot patch ${JSON.stringify(op.path.slice(0, 80))}. Only the following can be updated: extra, name, steps.`)
    }
    if ("value" in op) refuseForbiddenKeys(op.value, `value of ${op.path.slice(0, 80)}`)
    touched.add(field)
    if (field === "name") {
      if (rest.length > 0 || op.op === "remove") throw badRequest("The name of a deploy template can be replaced, not removed.")
      doc.name = checkTrait(valueOf(op))
    } else if (field === "extra") {
      if (rest.length > 0) applyInside(doc.extra, rest, op, current.uuid)
      else if (op.op === "remove") doc.extra = {}
      else {
        const v = valueOf(op)
        if (!isPlainObject(v)) throw badRequest("/extra must be a JSON object.")
        doc.extra = structuredClone(v)
      }
    } else if (rest.length === 0) {
      if (op.op === "remove") throw badRequest("The steps of a deploy template can be replaced, not removed.")
      const v = valueOf(op)
      if (!Array.isArray(v)) throw badRequest("/steps must be a list of deploy steps.")
      doc.steps = structuredClone(v)
    } else {
      const [index, member, ...deeper] = rest
      const i = index === "-" ? doc.steps.length : /^\d{1,3}$/.test(index!) ? Number(index) : -1
      if (i < 0 || i > doc.steps.length || (i === doc.steps.length && (op.op !== "add" || member !== undefined))) {
        throw badRequest(`Invalid patch path ${JSON.stringify(op.path.slice(0, 80))}: no such step.`)
      }
      if (member === undefined) {
        if (op.op === "remove") doc.steps.splice(i, 1)
        else if (op.op === "add") doc.steps.splice(i, 0, structuredClone(valueOf(op)))
        else doc.steps[i] = structuredClone(valueOf(op))
      } else {
        if (deeper.length > 0 || !["interface", "step", "args", "priority"].includes(member) || op.op === "remove") {
          throw badRequest(`Invalid patch path ${JSON.stringify(op.path.slice(0, 80))}: a step's interface, step, args or priority can be replaced.`)
        }
        const step = doc.steps[i]
        if (!isPlainObject(step)) throw badRequest(`Invalid patch path ${JSON.stringify(op.path.slice(0, 80))}: no such step.`)
        step[member] = structuredClone(valueOf(op))
      }
    }
  }
  const updated = await run(ctx.service.updateDeployTemplate(current.uuid, {
    ...(touched.has("name") ? { name: doc.name } : {}),
    ...(touched.has("extra") ? { extra: doc.extra } : {}),
    ...(touched.has("steps") ? { steps: checkSteps(doc.steps, "steps") } : {}),
  }, ctx.actor))
  return ok(document(updated, ctx.base))
}

const remove = async (ctx: RequestContext): Promise<Reply> => {
  since55(ctx)
  await run(ctx.service.removeDeployTemplate(ctx.params["template"]!, ctx.actor))
  return noContent
}

export const deployTemplateRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/deploy_templates", access: "read", handle: list },
  { method: "POST", pattern: "/v1/deploy_templates", access: "write", handle: create },
  { method: "GET", pattern: "/v1/deploy_templates/:template", access: "read", handle: show },
  { method: "PATCH", pattern: "/v1/deploy_templates/:template", access: "write", handle: patch },
  { method: "DELETE", pattern: "/v1/deploy_templates/:template", access: "write", handle: remove },
]
