// PATCH /v1/ports/{id} and /v1/nodes/{id}/vifs (API 1.28): what Nova's driver does to plug a
// Neutron port into a node; the VIF is recorded on the port it lands on.
import { decodeOrThrow, PatchDocument, strict, UuidInput } from "../codecs.ts"
import * as t from "io-ts"
import { noContent, ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest, notFound } from "../errors.ts"
import { portDocument } from "../node-json.ts"
import { applyPortPatch } from "../port-patch.ts"

const patchPort = async (ctx: RequestContext): Promise<Reply> => {
  const ops = decodeOrThrow(PatchDocument, await ctx.body(), "patch")
  const port = await run(ctx.service.getPort(ctx.params["port"]!))
  const changes = applyPortPatch(port, ops, ctx.version)
  const updated = Object.keys(changes).length === 0 ? port : await run(ctx.service.updatePort(port.uuid, changes, ctx.actor))
  return ok(portDocument(updated, ctx.base, ctx.version))
}

const since28 = (ctx: RequestContext) => {
  if (ctx.version < 28) throw notFound("The VIFs of a node are available from API version 1.28.")
}

/** A VIF id: Neutron's port UUID in practice; any short plain name is taken. */
const vifIdOf = (raw: unknown): string => {
  if (typeof raw !== "string" || !/^[A-Za-z0-9._:-]{1,255}$/.test(raw)) {
    throw badRequest(`Invalid VIF id ${JSON.stringify(raw)?.slice(0, 80)}: expected a UUID or a name of letters, digits and ._:-.`)
  }
  return raw
}

const VifAttach = strict({ id: t.string }, { port_uuid: UuidInput }, "vif")

const list = async (ctx: RequestContext): Promise<Reply> => {
  since28(ctx)
  const vifs = await run(ctx.service.vifs(ctx.params["node"]!))
  return ok({ vifs: vifs.map((id) => ({ id })) })
}

const attach = async (ctx: RequestContext): Promise<Reply> => {
  since28(ctx)
  const body = decodeOrThrow(VifAttach, await ctx.body(), "vif")
  if (body.port_uuid !== undefined && ctx.version < 67) throw badRequest("port_uuid in vif_info needs API version 1.67.")
  await run(ctx.service.attachVif(ctx.params["node"]!, vifIdOf(body.id), body.port_uuid, ctx.actor))
  return noContent
}

const detach = async (ctx: RequestContext): Promise<Reply> => {
  since28(ctx)
  await run(ctx.service.detachVif(ctx.params["node"]!, vifIdOf(ctx.params["vif"]), ctx.actor))
  return noContent
}

export const vifRoutes: ReadonlyArray<Route> = [
  { method: "PATCH", pattern: "/v1/ports/:port", access: "write", handle: patchPort },
  { method: "GET", pattern: "/v1/nodes/:node/vifs", access: "read", handle: list },
  { method: "POST", pattern: "/v1/nodes/:node/vifs", access: "write", handle: attach },
  { method: "DELETE", pattern: "/v1/nodes/:node/vifs/:vif", access: "write", handle: detach },
]
