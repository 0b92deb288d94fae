// /v1/allocations (API 1.52): ask for a node by resource class, traits and candidates; the
// answer binds one or says why not. `properties` (minimum cpus, memory_mb, local_gb, and
// cpu_arch) is ironledger's addition for a flavor's matching; the rest is Ironic's.
import * as t from "io-ts"
import type { AllocationView } from "../../../application/node-service.ts"
import type { Uuid } from "../../../domain/index.ts"
import { decodeOrThrow, JsonObject, NodeNameInput, strict, UuidInput } from "../codecs.ts"
import { noContent, ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest, notFound } from "../errors.ts"
import { links, parseFields, pickFields } from "../node-json.ts"
import { refuseForbiddenKeys } from "../patch.ts"
import { nextLink, pageOf } from "../query.ts"
import { checkTrait, maxTraits } from "./traits.ts"

const Text = (max: number) => new t.Type<string, string, unknown>(
  `a string of at most ${max} characters`,
  (u): u is string => typeof u === "string" && u.length <= max,
  (u, c) => (typeof u === "string" && u.length <= max ? t.success(u) : t.failure(u, c)),
  t.identity,
)

const Flavor = strict({}, {
  cpus: t.union([t.number, t.string]),
  memory_mb: t.union([t.number, t.string]),
  local_gb: t.union([t.number, t.string]),
  cpu_arch: Text(32),
}, "properties")

const AllocationCreate = strict({}, {
  uuid: UuidInput,
  name: t.union([NodeNameInput, t.null]),
  resource_class: t.union([Text(80), t.null]),
  traits: t.array(t.string),
  candidate_nodes: t.array(Text(255)),
  extra: JsonObject,
  owner: t.union([Text(255), t.null]),
  node: Text(255),
  properties: Flavor,
}, "allocation")

const since = (ctx: RequestContext, minor: number, what: string) => {
  if (ctx.version < minor) throw notFound(`${what} is available from API version 1.${minor}.`)
}

export const allocationDocument = (a: AllocationView, base: string, version: number): Record<string, unknown> => ({
  uuid: a.uuid,
  name: a.name,
  node_uuid: a.nodeUuid,
  state: a.state,
  last_error: a.lastError,
  resource_class: a.resourceClass,
  traits: a.traits,
  candidate_nodes: a.candidateNodes,
  extra: a.extra,
  ...(version >= 60 ? { owner: a.owner } : {}),
  properties: a.properties,
  created_at: a.createdAt,
  updated_at: a.updatedAt,
  links: links(base, "allocations", a.uuid),
})

const create = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 52, "The allocation API")
  const raw = await ctx.body()
  refuseForbiddenKeys(raw, "allocation")
  const body = decodeOrThrow(AllocationCreate, raw, "allocation")
  if (body.owner !== undefined && ctx.version < 60) throw badRequest("owner in an allocation needs API version 1.60.")
  if (body.node !== undefined && ctx.version < 58) throw badRequest("node (backfilling an allocation) needs API version 1.58.")
  // Ironic requires a resource class; ironledger also takes a flavor's properties instead.
  if (body.node === undefined && (body.resource_class === undefined || body.resource_class === null) && body.properties === undefined) {
    throw badRequest("The resource_class field is mandatory when not backfilling (or, in ironledger, properties).")
  }
  if (body.node !== undefined && body.candidate_nodes !== undefined) throw badRequest("Cannot use candidate_nodes when backfilling an allocation for a node.")
  const traits = (body.traits ?? []).map(checkTrait)
  if (traits.length > maxTraits) throw badRequest(`An allocation may ask for at most ${maxTraits} traits.`)
  const allocation = await run(ctx.service.allocate({
    ...(body.uuid === undefined ? {} : { uuid: body.uuid as Uuid }),
    name: body.name ?? null,
    resourceClass: body.resource_class ?? null,
    traits,
    candidateNodes: body.candidate_nodes ?? [],
    extra: body.extra ?? {},
    owner: body.owner ?? null,
    properties: body.properties ?? {},
    ...(body.node === undefined ? {} : { node: body.node }),
  }, ctx.actor))
  return {
    status: 201,
    body: allocationDocument(allocation, ctx.base, ctx.version),
    headers: { Location: `${ctx.base}/v1/allocations/${allocation.uuid}` },
  }
}

const knownQuery = new Set(["node", "resource_class", "state", "owner", "fields", "limit", "marker"])

const list = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 52, "The allocation API")
  for (const key of ctx.query.keys()) if (!knownQuery.has(key)) throw badRequest(`Unknown argument ${JSON.stringify(key.slice(0, 40))}: GET /v1/allocations accepts ${[...knownQuery].join(", ")}.`)
  const state = ctx.query.get("state")
  if (state !== null && !["allocating", "active", "error"].includes(state)) throw badRequest(`Invalid allocation state ${JSON.stringify(state.slice(0, 40))}.`)
  const page = pageOf(ctx.query)
  const fields = parseFields(ctx.query.get("fields"))
  const filter = Object.fromEntries((["node", "resource_class", "state", "owner"] as const)
    .flatMap((k) => (ctx.query.get(k) === null ? [] : [[k === "resource_class" ? "resourceClass" : k, ctx.query.get(k)!]])))
  const found = await run(ctx.service.allocations(filter, page))
  const docs = found.map((a) => {
    const doc = allocationDocument(a, ctx.base, ctx.version)
    return pickFields(doc, fields ?? ["uuid", "name", "node_uuid", "state", "resource_class", "links"], new Set(Object.keys(doc)))
  })
  const next = nextLink(ctx.base, "/v1/allocations", ctx.query, page.limit, found, found.length >= page.limit)
  return ok({ allocations: docs, ...(next === undefined ? {} : { next }) })
}

const show = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 52, "The allocation API")
  const doc = allocationDocument(await run(ctx.service.allocation(ctx.params["allocation"]!)), ctx.base, ctx.version)
  return ok(pickFields(doc, parseFields(ctx.query.get("fields")), new Set(Object.keys(doc))))
}

const remove = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 52, "The allocation API")
  await run(ctx.service.removeAllocation(ctx.params["allocation"]!, ctx.actor))
  return noContent
}

const ofNode = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 52, "The allocation API")
  const node = await run(ctx.service.get(ctx.params["node"]!))
  if (node.allocationUuid === null) throw notFound(`Node ${node.uuid} has no allocation.`)
  return ok(allocationDocument(await run(ctx.service.allocation(node.allocationUuid)), ctx.base, ctx.version))
}

const removeOfNode = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 52, "The allocation API")
  const node = await run(ctx.service.get(ctx.params["node"]!))
  if (node.allocationUuid === null) throw notFound(`Node ${node.uuid} has no allocation.`)
  await run(ctx.service.removeAllocation(node.allocationUuid, ctx.actor))
  return noContent
}

export const allocationRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/allocations", access: "read", handle: list },
  { method: "POST", pattern: "/v1/allocations", access: "write", handle: create },
  { method: "GET", pattern: "/v1/allocations/:allocation", access: "read", handle: show },
  { method: "DELETE", pattern: "/v1/allocations/:allocation", access: "write", handle: remove },
  { method: "GET", pattern: "/v1/nodes/:node/allocation", access: "read", handle: ofNode },
  { method: "DELETE", pattern: "/v1/nodes/:node/allocation", access: "write", handle: removeOfNode },
]

const instanceHistory = async (ctx: RequestContext): Promise<Reply> => {
  const instance = decodeOrThrow(UuidInput, ctx.params["instance"], "instance")
  const entries = await run(ctx.service.instanceHistory(instance))
  return ok({
    history: entries.map((e) => ({
      node_uuid: e.nodeUuid, revision: e.revision, created_at: e.occurredAt, type: e.event, actor: e.actor,
      provision_state: e.provisionState, instance_uuid: e.instanceUuid, request_id: e.correlationId, event: e.summary,
      severity: e.severity.toUpperCase(),
    })),
  })
}

/** ironledger's addition: an instance's life across nodes, for auditors. */
export const instanceRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/instances/:instance/history", access: "read", handle: instanceHistory },
]
