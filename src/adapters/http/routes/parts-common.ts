// What the port group and volume routes share: version gates, query checks and list answers.
import type { Page } from "../../../application/node-service.ts"
import type { RequestContext } from "../context.ts"
import { badRequest, notFound } from "../errors.ts"
import { parseFields, pickFields } from "../node-json.ts"
import { booleanOf, nextLink, pageOf } from "../query.ts"

/** Ironic answers 404 for a resource asked for below the version that introduced it. */
export const since = (ctx: RequestContext, minor: number, what: string) => {
  if (ctx.version < minor) throw notFound(`${what} is available from API version 1.${minor}.`)
}

export const checkQuery = (ctx: RequestContext, path: string, known: ReadonlyArray<string>) => {
  const all = new Set([...known, "fields", "limit", "marker", "detail", "sort_key", "sort_dir"])
  for (const key of ctx.query.keys()) {
    if (!all.has(key)) throw badRequest(`Unknown argument ${JSON.stringify(key.slice(0, 40))}: GET ${path} accepts ${[...all].join(", ")}.`)
  }
  const dir = ctx.query.get("sort_dir")
  if (dir !== null && dir !== "asc") throw badRequest("ironledger lists in UUID order only: sort_dir must be asc.")
  const key = ctx.query.get("sort_key")
  if (key !== null && key !== "uuid" && key !== "id") throw badRequest("ironledger lists in UUID order only: sort_key must be uuid.")
}

/** Lists one kind: ?fields, /detail or ?detail, paging with a next link. */
export const listAnswer = async <A extends { readonly uuid: string }>(
  ctx: RequestContext, detail: boolean, opts: {
    readonly collection: string
    readonly path: string
    readonly summary: ReadonlyArray<string>
    readonly fetch: (page: Page) => Promise<ReadonlyArray<A>>
    readonly document: (a: A) => Record<string, unknown>
  },
) => {
  const page = pageOf(ctx.query)
  const fields = parseFields(ctx.query.get("fields"))
  if (detail && fields !== null) throw badRequest("Can not specify ?fields with /detail.")
  const asDetail = detail || (ctx.query.has("detail") && booleanOf(ctx.query.get("detail")!, "detail"))
  if (asDetail && fields !== null) throw badRequest("Can not specify ?detail=True and fields in the same request.")
  const items = await opts.fetch(page)
  const docs = items.map((a) => {
    const doc = opts.document(a)
    const known = new Set(Object.keys(doc))
    if (fields !== null) return pickFields(doc, fields, known)
    return asDetail ? doc : pickFields(doc, opts.summary, known)
  })
  const next = nextLink(ctx.base, opts.path, ctx.query, page.limit, items, items.length >= page.limit)
  return { status: 200, body: { [opts.collection]: docs, ...(next === undefined ? {} : { next }) } }
}

export const showAnswer = (ctx: RequestContext, doc: Record<string, unknown>) =>
  ({ status: 200, body: pickFields(doc, parseFields(ctx.query.get("fields")), new Set(Object.keys(doc))) })
