// PUT /v1/nodes/{node}/management/inject_nmi (API 1.29) and /v1/conductors (1.49).
import { noContent, ok, run, type Reply, type RequestContext, type Route } from "../context.ts"
import type { ConductorView } from "../../../application/node-parts.ts"
import { badRequest, notFound } from "../errors.ts"
import { isPlainObject } from "../codecs.ts"
import { parseFields, pickFields } from "../node-json.ts"
import { booleanOf } from "../query.ts"
import { since } from "./parts-common.ts"

const injectNmi = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 29, "inject_nmi")
  const body = await ctx.body()
  // The CLI sends an empty object; Ironic takes nothing else.
  if (body !== undefined && !(isPlainObject(body) && Object.keys(body).length === 0)) throw badRequest("inject_nmi takes no arguments: send {} or no body.")
  await run(ctx.service.injectNmi(ctx.params["node"]!, ctx.actor))
  return noContent
}

const conductorDocument = (c: ConductorView, base: string): Record<string, unknown> => ({
  hostname: c.hostname,
  conductor_group: c.conductorGroup,
  alive: c.alive,
  drivers: c.drivers,
  created_at: c.lastSeen,
  updated_at: c.lastSeen,
  links: [
    { href: `${base}/v1/conductors/${encodeURIComponent(c.hostname)}`, rel: "self" },
    { href: `${base}/conductors/${encodeURIComponent(c.hostname)}`, rel: "bookmark" },
  ],
})

const listConductors = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 49, "The conductor API")
  for (const key of ctx.query.keys()) {
    if (!["fields", "detail", "limit", "marker", "sort_key", "sort_dir"].includes(key)) throw badRequest(`Unknown argument ${JSON.stringify(key.slice(0, 40))}: GET /v1/conductors accepts fields, detail, limit, marker, sort_key, sort_dir.`)
  }
  const fields = parseFields(ctx.query.get("fields"))
  const detail = ctx.query.has("detail") && booleanOf(ctx.query.get("detail")!, "detail")
  if (detail && fields !== null) throw badRequest("Can not specify ?detail=True and fields in the same request.")
  const all = await run(ctx.service.conductors())
  const docs = all.map((c) => {
    const doc = conductorDocument(c, ctx.base)
    return pickFields(doc, fields ?? (detail ? null : ["hostname", "conductor_group", "alive"]), new Set(Object.keys(doc)))
  })
  return ok({ conductors: docs })
}

const showConductor = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 49, "The conductor API")
  const found = (await run(ctx.service.conductors())).find((c) => c.hostname === ctx.params["hostname"])
  if (found === undefined) throw notFound(`Conductor ${ctx.params["hostname"]!.slice(0, 64)} could not be found.`)
  const doc = conductorDocument(found, ctx.base)
  return ok(pickFields(doc, parseFields(ctx.query.get("fields")), new Set(Object.keys(doc))))
}

export const managementRoutes: ReadonlyArray<Route> = [
  { method: "PUT", pattern: "/v1/nodes/:node/management/inject_nmi", access: "write", handle: injectNmi },
  { method: "GET", pattern: "/v1/conductors", access: "read", handle: listConductors },
  { method: "GET", pattern: "/v1/conductors/:hostname", access: "read", handle: showConductor },
]
