// /v1/ports: a node's network ports (their MACs are how PXE and the ramdisk find the node).
import type * as t from "io-ts"
import { refuseForbiddenKeys } from "../patch.ts"
import type { Mac, Uuid } from "../../../domain/index.ts"
import type { PortChanges } from "../../../application/node-service.ts"
import { checkLocalLinkConnection } from "../port-patch.ts"
import { HttpError } from "../errors.ts"
import { decodeOrThrow, MacInput, PortCreate } from "../codecs.ts"
import { noContent, ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest } from "../errors.ts"
import { parseFields, pickFields, portDocument, portSummaryFields } from "../node-json.ts"
import { booleanOf, nextLink, pageOf } from "../query.ts"

const fieldsOf = (doc: Record<string, unknown>) => new Set(Object.keys(doc))

const list = (detail: boolean) => async (ctx: RequestContext): Promise<Reply> => {
  const page = pageOf(ctx.query)
  const fields = parseFields(ctx.query.get("fields"))
  if (detail && fields !== null) throw badRequest("Can not specify ?fields with /detail.")
  const asDetail = detail || (ctx.query.has("detail") && booleanOf(ctx.query.get("detail")!, "detail"))
  const node = ctx.query.get("node") ?? ctx.query.get("node_uuid")
  const address = ctx.query.get("address")
  const mac = address === null ? undefined : (decodeOrThrow(MacInput, address, "address") as Mac)
  const ports = await run(ctx.service.listPorts({
    ...(node === null ? {} : { nodeRef: node }),
    ...(mac === undefined ? {} : { address: mac }),
  }, page))
  const docs = ports.map((p) => {
    const doc = portDocument(p, ctx.base, ctx.version)
    if (fields !== null) return pickFields(doc, fields, fieldsOf(doc))
    return asDetail ? doc : pickFields(doc, portSummaryFields, fieldsOf(doc))
  })
  const next = nextLink(ctx.base, detail ? "/v1/ports/detail" : "/v1/ports", ctx.query, page.limit, ports, ports.length >= page.limit)
  return ok({ ports: docs, ...(next === undefined ? {} : { next }) })
}

type PortCreate = t.TypeOf<typeof PortCreate>

const create = async (ctx: RequestContext): Promise<Reply> => {
  const raw = await ctx.body()
  refuseForbiddenKeys(raw, "port")
  const body = decodeOrThrow(PortCreate, raw, "port")
  const port = await run(ctx.service.addPort({ nodeRef: body.node_uuid, mac: body.address as Mac, settings: portSettingsOf(body, ctx.version) }, ctx.actor))
  return { status: 201, body: portDocument(port, ctx.base, ctx.version), headers: { Location: `${ctx.base}/v1/ports/${port.uuid}` } }
}

/** The settings a POST /v1/ports may carry beside the MAC, each from the version that introduced it. */
const portSettingsOf = (body: PortCreate, version: number): Omit<PortChanges, "address"> => {
  const since: ReadonlyArray<[keyof PortCreate, number]> = [["local_link_connection", 19], ["portgroup_uuid", 24], ["physical_network", 34], ["is_smartnic", 53]]
  for (const [field, minor] of since) {
    if (body[field] !== undefined && version < minor) throw new HttpError(406, `Request not acceptable: ${field} needs API version 1.${minor}.`)
  }
  if (body.physical_network != null && body.physical_network.length > 64) throw badRequest("physical_network must be a string of at most 64 characters, or null.")
  if (body.local_link_connection !== undefined) checkLocalLinkConnection(body.local_link_connection)
  return {
    ...(body.extra === undefined ? {} : { extra: body.extra }),
    ...(body.local_link_connection === undefined ? {} : { localLinkConnection: body.local_link_connection }),
    ...(body.physical_network === undefined ? {} : { physicalNetwork: body.physical_network }),
    ...(body.portgroup_uuid === undefined ? {} : { portgroupId: body.portgroup_uuid as Uuid | null }),
    ...(body.is_smartnic === undefined ? {} : { isSmartnic: body.is_smartnic }),
  }
}

const show = async (ctx: RequestContext): Promise<Reply> => {
  const fields = parseFields(ctx.query.get("fields"))
  const doc = portDocument(await run(ctx.service.getPort(ctx.params["port"]!)), ctx.base, ctx.version)
  return ok(pickFields(doc, fields, fieldsOf(doc)))
}

const remove = async (ctx: RequestContext): Promise<Reply> => {
  await run(ctx.service.removePort(ctx.params["port"]!, ctx.actor))
  return noContent
}

export const portRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/ports", access: "read", handle: list(false) },
  { method: "POST", pattern: "/v1/ports", access: "write", handle: create },
  { method: "GET", pattern: "/v1/ports/detail", access: "read", handle: list(true) },
  { method: "GET", pattern: "/v1/ports/:port", access: "read", handle: show },
  { method: "DELETE", pattern: "/v1/ports/:port", access: "write", handle: remove },
]
