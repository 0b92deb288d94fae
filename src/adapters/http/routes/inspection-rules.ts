// /v1/inspection_rules (Ironic 1.96's, ADR 0142): CRUD of rules {conditions -> actions}, applied
// when an inspection's inventory is taken. Checked as Ironic's schema (validation.SCHEMA): actions
// required (at least one), priority 0-9999, description at most 255, phase "main", each operation
// {op, args}; the domain then names every unsupported op or bad argument. A sensitive rule shows
// null conditions and actions, and cannot be made non-sensitive. Served at every version
// ironledger advertises (below 1.96: ADR 0142 says why).
import * as t from "io-ts"
import type { RuleOperation } from "../../../domain/inspection-rules.ts"
import type { Uuid } from "../../../domain/index.ts"
import type { RuleChanges, StoredInspectionRule } from "../../../application/inspection/rules.ts"
import { decodeOrThrow, isPlainObject, PatchDocument, strict, UuidInput, type PatchOperation } from "../codecs.ts"
import { noContent, ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest } from "../errors.ts"
import { links, parseFields, pickFields } from "../node-json.ts"
import { pointer, refuseForbiddenKeys, valueOf } from "../patch.ts"
import { nextLink, pageOf } from "../query.ts"

const Args = t.union([t.UnknownRecord, t.UnknownArray], "a list or an object")
/** `loop` (Ironic's iteration over items) is not offered: only an empty one, as documents show it, is taken. */
const NoLoop = new t.Type<ReadonlyArray<unknown>, unknown, unknown>("an empty list",
  (u): u is ReadonlyArray<unknown> => Array.isArray(u) && u.length === 0,
  (u, c) => (Array.isArray(u) && u.length === 0) || (isPlainObject(u) && Object.keys(u).length === 0) ? t.success([])
    : t.failure(u, c, "loop is not supported by ironledger's inspection rules: write one condition or action per item"),
  t.identity)
const Condition = strict({ op: t.string, args: Args }, { loop: NoLoop, multiple: t.keyof({ any: null, all: null, first: null, last: null }) }, "condition")
const Action = strict({ op: t.string, args: Args }, { loop: NoLoop }, "action")
const Priority = new t.Type<number, number, unknown>("a whole number from 0 to 9999",
  (u): u is number => Number.isInteger(u) && (u as number) >= 0 && (u as number) <= 9999,
  (u, c) => Number.isInteger(u) && (u as number) >= 0 && (u as number) <= 9999 ? t.success(u as number)
    : t.failure(u, c, `Priority must be between 0 and 9999 for user-defined rules, got ${JSON.stringify(u)?.slice(0, 40)}`),
  t.identity)
const Description = new t.Type<string | null, string | null, unknown>("a string of at most 255 characters",
  (u): u is string | null => u === null || (typeof u === "string" && u.length <= 255),
  (u, c) => u === null || (typeof u === "string" && u.length <= 255) ? t.success(u as string | null) : t.failure(u, c, "description must be a string of at most 255 characters or null"),
  t.identity)
const Phase = new t.Type<"main", "main", unknown>("main",
  (u): u is "main" => u === "main",
  (u, c) => u === "main" || u === null ? t.success("main") : t.failure(u, c, `Invalid phase: ${JSON.stringify(u)?.slice(0, 20)}. Valid phases are: main`),
  t.identity)
const optional = { priority: Priority, description: Description, sensitive: t.union([t.boolean, t.null]), phase: Phase, conditions: t.union([t.array(Condition), t.null]) }
const RuleCreate = strict({ actions: t.array(Action) }, { uuid: t.union([UuidInput, t.null]), ...optional }, "inspection rule")

const operations = (ops: ReadonlyArray<{ op: string; args: unknown }>): Array<RuleOperation> =>
  ops.map((o) => ({ op: o.op, args: o.args as RuleOperation["args"] }))

const document = (r: StoredInspectionRule, base: string): Record<string, unknown> => ({
  uuid: r.uuid, description: r.description, priority: r.priority, sensitive: r.sensitive, phase: r.phase,
  conditions: r.sensitive ? null : r.conditions.map((c) => ({ op: c.op, args: c.args })),
  actions: r.sensitive ? null : r.actions.map((a) => ({ op: a.op, args: a.args, loop: [] })),
  created_at: r.createdAt, updated_at: r.updatedAt, links: links(base, "inspection_rules", r.uuid),
})
const known = new Set(["uuid", "description", "priority", "sensitive", "phase", "conditions", "actions", "created_at", "updated_at", "links"])

const create = async (ctx: RequestContext): Promise<Reply> => {
  const raw = await ctx.body()
  refuseForbiddenKeys(raw, "inspection rule")
  const body = decodeOrThrow(RuleCreate, raw, "inspection rule")
  const rule = await run(ctx.service.createInspectionRule({
    ...(body.uuid == null ? {} : { uuid: body.uuid as Uuid }),
    description: body.description ?? null, priority: body.priority ?? 0, sensitive: body.sensitive ?? false, phase: "main",
    conditions: operations(body.conditions ?? []), actions: operations(body.actions),
  }, ctx.actor))
  return { status: 201, body: document(rule, ctx.base), headers: { Location: `${ctx.base}/v1/inspection_rules/${rule.uuid}` } }
}

const listQuery = new Set(["fields", "detail", "limit", "marker", "sort_dir", "sort_key", "phase"])
const sortKeys: Readonly<Record<string, (r: StoredInspectionRule) => string | number>> = {
  id: (r) => r.createdAt, uuid: (r) => r.uuid, priority: (r) => r.priority, description: (r) => r.description ?? "",
  phase: (r) => r.phase, sensitive: (r) => String(r.sensitive), created_at: (r) => r.createdAt, updated_at: (r) => r.updatedAt ?? "",
}

const list = async (ctx: RequestContext): Promise<Reply> => {
  for (const key of ctx.query.keys()) if (!listQuery.has(key)) throw badRequest(`Unknown argument ${JSON.stringify(key.slice(0, 40))}: GET /v1/inspection_rules accepts ${[...listQuery].join(", ")}.`)
  const detail = ctx.query.get("detail")
  if (detail !== null && !["true", "false", "True", "False", "1", "0"].includes(detail)) throw badRequest(`Invalid detail ${JSON.stringify(detail.slice(0, 40))}.`)
  const detailed = detail !== null && ["true", "True", "1"].includes(detail)
  const fields = parseFields(ctx.query.get("fields"))
  if (fields !== null && detailed) throw badRequest("Can not specify ?detail=True and fields in the same request.")
  const sortDir = ctx.query.get("sort_dir")
  if (sortDir !== null && sortDir !== "asc" && sortDir !== "desc") throw badRequest("sort_dir must be asc or desc.")
  const sortKey = ctx.query.get("sort_key") ?? "id"
  const by = sortKeys[sortKey]
  if (by === undefined) throw badRequest(`The sort_key value ${JSON.stringify(sortKey.slice(0, 40))} is an invalid field for sorting`)
  const phase = ctx.query.get("phase")
  const page = pageOf(ctx.query)
  // The stream's order (creation) breaks ties, as the order equal priorities run in.
  const all = [...await run(ctx.service.inspectionRules())].filter((r) => phase === null || r.phase === phase)
    .map((r, i) => [r, i] as const)
    .sort(([a, i], [b, j]) => { const x = by(a), y = by(b); return (x < y ? -1 : x > y ? 1 : i - j) * (sortDir === "desc" ? -1 : 1) })
    .map(([r]) => r)
  const start = page.marker === undefined ? 0 : all.findIndex((x) => x.uuid === page.marker!.toLowerCase()) + 1
  const found = all.slice(start, start + page.limit)
  const shown = fields ?? (detailed ? null : ["uuid", "priority", "phase", "description"])
  const next = nextLink(ctx.base, "/v1/inspection_rules", ctx.query, page.limit, found, found.length >= page.limit)
  return ok({ inspection_rules: found.map((x) => pickFields(document(x, ctx.base), shown, known)), ...(next === undefined ? {} : { next }) })
}

const show = async (ctx: RequestContext): Promise<Reply> => {
  const r = await run(ctx.service.inspectionRule(ctx.params["rule"]!))
  return ok(pickFields(document(r, ctx.base), parseFields(ctx.query.get("fields")), known))
}

/** add/replace/remove at a pointer below a field of the rule document (arrays and objects). */
const applyAt = (root: Record<string, unknown>, path: ReadonlyArray<string>, op: PatchOperation, uuid: string) => {
  let parent: unknown = root
  for (const key of path.slice(0, -1)) {
    parent = Array.isArray(parent) ? (/^\d+$/.test(key) ? parent[Number(key)] : undefined) : isPlainObject(parent) && Object.hasOwn(parent, key) ? parent[key] : undefined
    if (parent === undefined) throw badRequest(`Can't ${op.op} ${op.path.slice(0, 80)} of inspection rule ${uuid}: ${key.slice(0, 80)} does not exist.`)
  }
  const last = path.at(-1)!
  if (Array.isArray(parent)) {
    const index = last === "-" ? parent.length : /^\d+$/.test(last) ? Number(last) : -1
    if (index < 0 || index > (op.op === "add" ? parent.length : parent.length - 1)) throw badRequest(`Can't ${op.op} ${op.path.slice(0, 80)} of inspection rule ${uuid}: no such index.`)
    if (op.op === "add") parent.splice(index, 0, structuredClone(valueOf(op)))
    else if (op.op === "replace") parent[index] = structuredClone(valueOf(op))
    else parent.splice(index, 1)
    return
  }
  if (!isPlainObject(parent)) throw badRequest(`Can't ${op.op} ${op.path.slice(0, 80)} of inspection rule ${uuid}: its parent is not an object.`)
  if (op.op !== "add" && !Object.hasOwn(parent, last)) throw badRequest(`Can't ${op.op} non-existent attribute '${op.path.slice(0, 80)}' of inspection rule ${uuid}.`)
  if (op.op === "remove") delete parent[last]
  else parent[last] = structuredClone(valueOf(op))
}

const patchable = ["description", "priority", "sensitive", "phase", "conditions", "actions"]

const patch = async (ctx: RequestContext): Promise<Reply> => {
  const ops: ReadonlyArray<PatchOperation> = decodeOrThrow(PatchDocument, await ctx.body(), "JSON patch")
  const current = await run(ctx.service.inspectionRule(ctx.params["rule"]!))
  const doc: Record<string, unknown> = structuredClone({
    description: current.description, priority: current.priority, sensitive: current.sensitive, phase: current.phase,
    conditions: current.conditions, actions: current.actions,
  })
  for (const op of ops) {
    const path = pointer(op.path)
    if (!patchable.includes(path[0] ?? "")) throw badRequest(`Cannot patch ${JSON.stringify(op.path.slice(0, 80))}. Only the following can be updated: ${patchable.join(", ")}.`)
    if ("value" in op) refuseForbiddenKeys(op.value, `value of ${op.path.slice(0, 80)}`)
    // A removed top-level field takes its default, as Ironic's schema gives it.
    if (path.length === 1 && op.op === "remove") doc[path[0]!] = { description: null, priority: 0, sensitive: false, phase: "main", conditions: [], actions: [] }[path[0]!]
    else applyAt(doc, path, op, current.uuid)
  }
  const body = decodeOrThrow(strict({ actions: t.array(Action) }, optional, "inspection rule"), doc, "inspection rule")
  const changes: RuleChanges = {
    description: body.description ?? null, priority: body.priority ?? 0, sensitive: body.sensitive ?? false, phase: "main",
    conditions: operations(body.conditions ?? []), actions: operations(body.actions),
  }
  return ok(document(await run(ctx.service.updateInspectionRule(current.uuid, changes, ctx.actor)), ctx.base))
}

const remove = async (ctx: RequestContext): Promise<Reply> => {
  await run(ctx.service.removeInspectionRule(ctx.params["rule"]!, ctx.actor))
  return noContent
}

export const inspectionRuleRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/inspection_rules", access: "read", handle: list },
  { method: "POST", pattern: "/v1/inspection_rules", access: "write", handle: create },
  { method: "GET", pattern: "/v1/inspection_rules/:rule", access: "read", handle: show },
  { method: "PATCH", pattern: "/v1/inspection_rules/:rule", access: "write", handle: patch },
  { method: "DELETE", pattern: "/v1/inspection_rules/:rule", access: "write", handle: remove },
]
