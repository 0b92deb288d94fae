// /v1/nodes/{id}/traits (API 1.37): the node's traits, which allocations and flavors match on.
// Traits are never set by a node PATCH, only here, as in Ironic.
import { isPlainObject } from "../codecs.ts"
import { noContent, ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest, notFound } from "../errors.ts"

/** Ironic's limit on a node's traits. */
export const maxTraits = 50

/** A standard trait (os-traits style) or a CUSTOM_ one: upper case letters, digits and "_". */
export const checkTrait = (trait: unknown): string => {
  if (typeof trait !== "string" || !/^[A-Z][A-Z0-9_]{0,254}$/.test(trait)) {
    throw badRequest(`Invalid trait ${JSON.stringify(trait)?.slice(0, 80)}: a trait is at most 255 upper case letters, digits and "_" (custom traits start with CUSTOM_).`)
  }
  return trait
}

const since37 = (ctx: RequestContext) => {
  if (ctx.version < 37) throw notFound("The traits of a node are available from API version 1.37.")
}

const setTraits = async (ctx: RequestContext, traits: ReadonlyArray<string>) => {
  if (traits.length > maxTraits) throw badRequest(`A node may have at most ${maxTraits} traits.`)
  await run(ctx.service.update(ctx.params["node"]!, { traits: [...new Set(traits)].sort() }, ctx.actor))
  return noContent
}

const list = async (ctx: RequestContext): Promise<Reply> => {
  since37(ctx)
  return ok({ traits: (await run(ctx.service.get(ctx.params["node"]!))).traits })
}

const replaceAll = async (ctx: RequestContext): Promise<Reply> => {
  since37(ctx)
  const body = await ctx.body()
  if (!isPlainObject(body) || !Array.isArray(body["traits"]) || Object.keys(body).length !== 1) {
    throw badRequest('Invalid traits: the body must be {"traits": [...]}.')
  }
  return setTraits(ctx, body["traits"].map(checkTrait))
}

const addOne = async (ctx: RequestContext): Promise<Reply> => {
  since37(ctx)
  const body = await ctx.body()
  if (body !== undefined) throw badRequest("PUT /v1/nodes/<node>/traits/<trait> takes no body; to set all traits PUT /v1/nodes/<node>/traits with the list.")
  const trait = checkTrait(ctx.params["trait"])
  // Decided against the node's stream: two adds sent together both land.
  await run(ctx.service.addTrait(ctx.params["node"]!, trait, maxTraits, ctx.actor))
  return noContent
}

const removeAll = async (ctx: RequestContext): Promise<Reply> => {
  since37(ctx)
  return setTraits(ctx, [])
}

const removeOne = async (ctx: RequestContext): Promise<Reply> => {
  since37(ctx)
  await run(ctx.service.removeTrait(ctx.params["node"]!, ctx.params["trait"]!, ctx.actor))
  return noContent
}

export const traitRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/nodes/:node/traits", access: "read", handle: list },
  { method: "PUT", pattern: "/v1/nodes/:node/traits", access: "write", handle: replaceAll },
  { method: "DELETE", pattern: "/v1/nodes/:node/traits", access: "write", handle: removeAll },
  { method: "PUT", pattern: "/v1/nodes/:node/traits/:trait", access: "write", handle: addOne },
  { method: "DELETE", pattern: "/v1/nodes/:node/traits/:trait", access: "write", handle: removeOne },
]
