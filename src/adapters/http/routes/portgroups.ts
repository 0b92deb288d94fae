// /v1/portgroups (API 1.23; mode and properties 1.26) and /v1/nodes/{node}/portgroups (1.24):
// a node's bonded ports. Ironic's fields and rules; a group with ports can not be deleted.
import * as t from "io-ts"
import type { PortgroupView } from "../../../application/node-parts.ts"
import type { Mac, PortgroupFields, Uuid } from "../../../domain/index.ts"
import { decodeOrThrow, JsonObject, MacInput, NodeNameInput, PatchDocument, strict, UuidInput } from "../codecs.ts"
import { noContent, run, type Reply, type RequestContext, type Route } from "../context.ts"
import { badRequest, HttpError } from "../errors.ts"
import { links, portDocument } from "../node-json.ts"
import { flag, refuseForbiddenKeys } from "../patch.ts"
import { applyFlatPatch } from "../part-patch.ts"
import { checkQuery, listAnswer, showAnswer, since } from "./parts-common.ts"

/** Ironic's [DEFAULT]default_portgroup_mode. */
const defaultMode = "active-backup"
const Mode = new t.Type<string, string, unknown>("a bonding mode (a string of at most 255 characters)",
  (u): u is string => typeof u === "string", (u, c) => (typeof u === "string" && u.length > 0 && u.length <= 255 ? t.success(u) : t.failure(u, c)), t.identity)

const PortgroupCreate = strict({ node_uuid: UuidInput }, {
  uuid: t.union([UuidInput, t.null]),
  address: t.union([MacInput, t.null]),
  name: t.union([NodeNameInput, t.null]),
  mode: t.union([Mode, t.null]),
  properties: t.union([JsonObject, t.null]),
  standalone_ports_supported: t.union([t.boolean, t.string, t.null]),
  extra: t.union([JsonObject, t.null]),
}, "port group")

export const portgroupDocument = (g: PortgroupView, base: string, version: number): Record<string, unknown> => ({
  uuid: g.uuid,
  address: g.address,
  name: g.name,
  node_uuid: g.nodeUuid,
  standalone_ports_supported: g.standalonePortsSupported,
  internal_info: {},
  extra: g.extra,
  ...(version >= 26 ? { mode: g.mode, properties: g.properties } : {}),
  created_at: g.createdAt,
  updated_at: g.updatedAt,
  links: links(base, "portgroups", g.uuid),
  ports: [
    { href: `${base}/v1/portgroups/${g.uuid}/ports`, rel: "self" },
    { href: `${base}/portgroups/${g.uuid}/ports`, rel: "bookmark" },
  ],
})

const summary = ["uuid", "address", "name", "links"]

const create = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 23, "The port group API")
  const raw = await ctx.body()
  refuseForbiddenKeys(raw, "port group")
  const body = decodeOrThrow(PortgroupCreate, raw, "port group")
  if (ctx.version < 26 && (body.mode != null || body.properties != null)) throw new HttpError(406, "Request not acceptable: mode and properties of a port group need API version 1.26.")
  const fields: PortgroupFields = {
    address: (body.address ?? null) as Mac | null,
    name: body.name ?? null,
    mode: body.mode ?? defaultMode,
    properties: body.properties ?? {},
    standalonePortsSupported: body.standalone_ports_supported == null ? true : flag(body.standalone_ports_supported, "standalone_ports_supported"),
    extra: body.extra ?? {},
  }
  const g = await run(ctx.service.createPortgroup({ nodeRef: body.node_uuid, fields, ...(body.uuid == null ? {} : { uuid: body.uuid as Uuid }) }, ctx.actor))
  return { status: 201, body: portgroupDocument(g, ctx.base, ctx.version), headers: { Location: `${ctx.base}/v1/portgroups/${g.uuid}` } }
}

const list = (detail: boolean, ofNode: boolean) => async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, ofNode ? 24 : 23, ofNode ? "The port groups of a node" : "The port group API")
  checkQuery(ctx, "/v1/portgroups", ofNode ? [] : ["node", "address"])
  const nodeRef = ofNode ? ctx.params["node"]! : ctx.query.get("node") ?? undefined
  const address = ctx.query.get("address")
  const mac = address === null ? undefined : decodeOrThrow(MacInput, address, "address") as Mac
  return listAnswer(ctx, detail, {
    collection: "portgroups",
    path: ofNode ? `/v1/nodes/${ctx.params["node"]}/portgroups${detail ? "/detail" : ""}` : `/v1/portgroups${detail ? "/detail" : ""}`,
    summary,
    fetch: (page) => run(ctx.service.portgroups({ ...(nodeRef === undefined ? {} : { nodeRef }), ...(mac === undefined ? {} : { address: mac }) }, page)),
    document: (g) => portgroupDocument(g, ctx.base, ctx.version),
  })
}

const show = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 23, "The port group API")
  return showAnswer(ctx, portgroupDocument(await run(ctx.service.portgroup(ctx.params["portgroup"]!)), ctx.base, ctx.version))
}

const patchRules = {
  what: "port group",
  fields: { address: 23, name: 23, extra: 23, standalone_ports_supported: 23, mode: 26, properties: 26 },
  dicts: new Set(["extra", "properties"]),
  required: new Set(["mode", "standalone_ports_supported"]),
  moving: new Set(["node_uuid"]),
}

const patch = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 23, "The port group API")
  const ops = decodeOrThrow(PatchDocument, await ctx.body(), "patch")
  const current = await run(ctx.service.portgroup(ctx.params["portgroup"]!))
  const { doc, touched } = applyFlatPatch({
    address: current.address, name: current.name, extra: current.extra, mode: current.mode,
    properties: current.properties, standalone_ports_supported: current.standalonePortsSupported,
  }, ops, ctx.version, patchRules, current.uuid)
  const changes: Partial<PortgroupFields> = {
    ...(touched.has("address") ? { address: doc["address"] === null ? null : decodeOrThrow(MacInput, doc["address"], "address") as Mac } : {}),
    ...(touched.has("name") ? { name: doc["name"] === null ? null : decodeOrThrow(NodeNameInput, doc["name"], "name") } : {}),
    ...(touched.has("mode") ? { mode: decodeOrThrow(Mode, doc["mode"], "mode") } : {}),
    ...(touched.has("standalone_ports_supported") ? { standalonePortsSupported: flag(doc["standalone_ports_supported"], "standalone_ports_supported") } : {}),
    ...(touched.has("extra") ? { extra: doc["extra"] as Record<string, unknown> } : {}),
    ...(touched.has("properties") ? { properties: doc["properties"] as Record<string, unknown> } : {}),
  }
  if (Object.keys(changes).length === 0) throw badRequest("The patch changes nothing.")
  return { status: 200, body: portgroupDocument(await run(ctx.service.updatePortgroup(current.uuid, changes, ctx.actor)), ctx.base, ctx.version) }
}

const remove = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 23, "The port group API")
  await run(ctx.service.deletePortgroup(ctx.params["portgroup"]!, ctx.actor))
  return noContent
}

/** GET /v1/portgroups/{pg}/ports (1.24): the ports that belong to the group. */
const ports = (detail: boolean) => async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 24, "The ports of a port group")
  checkQuery(ctx, "/v1/portgroups/{portgroup}/ports", [])
  const group = await run(ctx.service.portgroup(ctx.params["portgroup"]!))
  const members = new Set(group.ports)
  return listAnswer(ctx, detail, {
    collection: "ports",
    path: `/v1/portgroups/${group.uuid}/ports${detail ? "/detail" : ""}`,
    summary: ["uuid", "address", "links"],
    fetch: async (page) => (await run(ctx.service.listPorts({ nodeRef: group.nodeUuid }, { limit: 1000 }))).filter((p) => members.has(p.uuid))
      .filter((p) => page.marker === undefined || p.uuid > page.marker).slice(0, page.limit),
    document: (p) => portDocument(p, ctx.base, ctx.version),
  })
}

export const portgroupRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/portgroups", access: "read", handle: list(false, false) },
  { method: "POST", pattern: "/v1/portgroups", access: "write", handle: create },
  { method: "GET", pattern: "/v1/portgroups/detail", access: "read", handle: list(true, false) },
  { method: "GET", pattern: "/v1/portgroups/:portgroup", access: "read", handle: show },
  { method: "PATCH", pattern: "/v1/portgroups/:portgroup", access: "write", handle: patch },
  { method: "DELETE", pattern: "/v1/portgroups/:portgroup", access: "write", handle: remove },
  { method: "GET", pattern: "/v1/portgroups/:portgroup/ports", access: "read", handle: ports(false) },
  { method: "GET", pattern: "/v1/portgroups/:portgroup/ports/detail", access: "read", handle: ports(true) },
  { method: "GET", pattern: "/v1/nodes/:node/portgroups", access: "read", handle: list(false, true) },
  { method: "GET", pattern: "/v1/nodes/:node/portgroups/detail", access: "read", handle: list(true, true) },
]
