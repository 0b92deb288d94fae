// /v1/volume, /v1/volume/connectors and /v1/volume/targets (API 1.32), and the node's own under
// /v1/nodes/{node}/volume: stored and shown; the storage interface "noop" does nothing with them.
import * as t from "io-ts"
import type { VolumeConnectorView, VolumeTargetView } from "../../../application/node-parts.ts"
import { ConnectorType, NonNegativeInt, type ConnectorFields, type TargetFields, type Uuid } from "../../../domain/index.ts"
import { decodeOrThrow, JsonObject, PatchDocument, strict, UuidInput } from "../codecs.ts"
import { noContent, ok, run, type Reply, type RequestContext, type Route } from "../context.ts"
import { badRequest } from "../errors.ts"
import { links } from "../node-json.ts"
import { refuseForbiddenKeys } from "../patch.ts"
import { applyFlatPatch } from "../part-patch.ts"
import { checkQuery, listAnswer, showAnswer, since } from "./parts-common.ts"

const Text = (max: number) => new t.Type<string, string, unknown>(`a string of 1 to ${max} characters`,
  (u): u is string => typeof u === "string", (u, c) => (typeof u === "string" && u.length > 0 && u.length <= max ? t.success(u) : t.failure(u, c)), t.identity)

const ConnectorCreate = strict({ node_uuid: UuidInput, type: ConnectorType, connector_id: Text(255) }, {
  uuid: t.union([UuidInput, t.null]), extra: t.union([JsonObject, t.null]),
}, "volume connector")
const TargetCreate = strict({ node_uuid: UuidInput, volume_type: Text(64), volume_id: Text(36), boot_index: NonNegativeInt }, {
  uuid: t.union([UuidInput, t.null]), properties: t.union([JsonObject, t.null]), extra: t.union([JsonObject, t.null]),
}, "volume target")

const connectorDocument = (c: VolumeConnectorView, base: string): Record<string, unknown> => ({
  uuid: c.uuid, type: c.type, connector_id: c.connectorId, node_uuid: c.nodeUuid, extra: c.extra,
  created_at: c.createdAt, updated_at: c.updatedAt, links: links(base, "volume/connectors", c.uuid),
})
const targetDocument = (v: VolumeTargetView, base: string): Record<string, unknown> => ({
  uuid: v.uuid, volume_type: v.volumeType, properties: v.properties, boot_index: v.bootIndex, extra: v.extra,
  volume_id: v.volumeId, node_uuid: v.nodeUuid, created_at: v.createdAt, updated_at: v.updatedAt,
  links: links(base, "volume/targets", v.uuid),
})

const api = "The volume API"
const volumeLinks = (base: string, prefix: string) => ({
  links: [{ href: `${base}${prefix}/volume/`, rel: "self" }],
  connectors: [{ href: `${base}${prefix}/volume/connectors`, rel: "self" }],
  targets: [{ href: `${base}${prefix}/volume/targets`, rel: "self" }],
})

const root = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 32, api)
  return ok(volumeLinks(ctx.base, "/v1"))
}
const nodeRoot = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 32, api)
  const node = await run(ctx.service.get(ctx.params["node"]!))
  return ok(volumeLinks(ctx.base, `/v1/nodes/${node.uuid}`))
}

const nodeRefOf = (ctx: RequestContext, ofNode: boolean) => {
  checkQuery(ctx, "/v1/volume/...", ofNode ? [] : ["node"])
  const ref = ofNode ? ctx.params["node"]! : ctx.query.get("node")
  return ref === null ? {} : { nodeRef: ref }
}

const connectors = (detail: boolean, ofNode: boolean) => async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 32, api)
  const filter = nodeRefOf(ctx, ofNode)
  return listAnswer(ctx, detail, {
    collection: "connectors", path: ofNode ? `/v1/nodes/${ctx.params["node"]}/volume/connectors` : "/v1/volume/connectors",
    summary: ["uuid", "node_uuid", "type", "connector_id", "links"],
    fetch: (page) => run(ctx.service.volumeConnectors(filter, page)),
    document: (c) => connectorDocument(c, ctx.base),
  })
}
const targets = (detail: boolean, ofNode: boolean) => async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 32, api)
  const filter = nodeRefOf(ctx, ofNode)
  return listAnswer(ctx, detail, {
    collection: "targets", path: ofNode ? `/v1/nodes/${ctx.params["node"]}/volume/targets` : "/v1/volume/targets",
    summary: ["uuid", "node_uuid", "volume_type", "boot_index", "volume_id", "links"],
    fetch: (page) => run(ctx.service.volumeTargets(filter, page)),
    document: (v) => targetDocument(v, ctx.base),
  })
}

const createConnector = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 32, api)
  const raw = await ctx.body()
  refuseForbiddenKeys(raw, "volume connector")
  const body = decodeOrThrow(ConnectorCreate, raw, "volume connector")
  const fields: ConnectorFields = { type: body.type, connectorId: body.connector_id, extra: body.extra ?? {} }
  const c = await run(ctx.service.createVolumeConnector({ nodeRef: body.node_uuid, fields, ...(body.uuid == null ? {} : { uuid: body.uuid as Uuid }) }, ctx.actor))
  return { status: 201, body: connectorDocument(c, ctx.base), headers: { Location: `${ctx.base}/v1/volume/connectors/${c.uuid}` } }
}
const createTarget = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 32, api)
  const raw = await ctx.body()
  refuseForbiddenKeys(raw, "volume target")
  const body = decodeOrThrow(TargetCreate, raw, "volume target")
  const fields: TargetFields = { volumeType: body.volume_type, volumeId: body.volume_id, bootIndex: body.boot_index, properties: body.properties ?? {}, extra: body.extra ?? {} }
  const v = await run(ctx.service.createVolumeTarget({ nodeRef: body.node_uuid, fields, ...(body.uuid == null ? {} : { uuid: body.uuid as Uuid }) }, ctx.actor))
  return { status: 201, body: targetDocument(v, ctx.base), headers: { Location: `${ctx.base}/v1/volume/targets/${v.uuid}` } }
}

const showConnector = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 32, api)
  return showAnswer(ctx, connectorDocument(await run(ctx.service.volumeConnector(ctx.params["connector"]!)), ctx.base))
}
const showTarget = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 32, api)
  return showAnswer(ctx, targetDocument(await run(ctx.service.volumeTarget(ctx.params["target"]!)), ctx.base))
}

const patchConnector = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 32, api)
  const ops = decodeOrThrow(PatchDocument, await ctx.body(), "patch")
  const c = await run(ctx.service.volumeConnector(ctx.params["connector"]!))
  const { doc, touched } = applyFlatPatch({ type: c.type, connector_id: c.connectorId, extra: c.extra }, ops, ctx.version,
    { what: "volume connector", fields: { type: 32, connector_id: 32, extra: 32 }, dicts: new Set(["extra"]), required: new Set(["type", "connector_id"]), moving: new Set(["node_uuid"]) }, c.uuid)
  const changes: Partial<ConnectorFields> = {
    ...(touched.has("type") ? { type: decodeOrThrow(ConnectorType, doc["type"], "type") } : {}),
    ...(touched.has("connector_id") ? { connectorId: decodeOrThrow(Text(255), doc["connector_id"], "connector_id") } : {}),
    ...(touched.has("extra") ? { extra: doc["extra"] as Record<string, unknown> } : {}),
  }
  if (Object.keys(changes).length === 0) throw badRequest("The patch changes nothing.")
  return ok(connectorDocument(await run(ctx.service.updateVolumeConnector(c.uuid, changes, ctx.actor)), ctx.base))
}
const patchTarget = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 32, api)
  const ops = decodeOrThrow(PatchDocument, await ctx.body(), "patch")
  const v = await run(ctx.service.volumeTarget(ctx.params["target"]!))
  const { doc, touched } = applyFlatPatch({ volume_type: v.volumeType, volume_id: v.volumeId, boot_index: v.bootIndex, properties: v.properties, extra: v.extra }, ops, ctx.version,
    { what: "volume target", fields: { volume_type: 32, volume_id: 32, boot_index: 32, properties: 32, extra: 32 }, dicts: new Set(["extra", "properties"]), required: new Set(["volume_type", "volume_id", "boot_index"]), moving: new Set(["node_uuid"]) }, v.uuid)
  const changes: Partial<TargetFields> = {
    ...(touched.has("volume_type") ? { volumeType: decodeOrThrow(Text(64), doc["volume_type"], "volume_type") } : {}),
    ...(touched.has("volume_id") ? { volumeId: decodeOrThrow(Text(36), doc["volume_id"], "volume_id") } : {}),
    ...(touched.has("boot_index") ? { bootIndex: decodeOrThrow(NonNegativeInt, doc["boot_index"], "boot_index") } : {}),
    ...(touched.has("properties") ? { properties: doc["properties"] as Record<string, unknown> } : {}),
    ...(touched.has("extra") ? { extra: doc["extra"] as Record<string, unknown> } : {}),
  }
  if (Object.keys(changes).length === 0) throw badRequest("The patch changes nothing.")
  return ok(targetDocument(await run(ctx.service.updateVolumeTarget(v.uuid, changes, ctx.actor)), ctx.base))
}

const removeConnector = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 32, api)
  await run(ctx.service.deleteVolumeConnector(ctx.params["connector"]!, ctx.actor))
  return noContent
}
const removeTarget = async (ctx: RequestContext): Promise<Reply> => {
  since(ctx, 32, api)
  await run(ctx.service.deleteVolumeTarget(ctx.params["target"]!, ctx.actor))
  return noContent
}

export const volumeRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/volume", access: "read", handle: root },
  { method: "GET", pattern: "/v1/volume/connectors", access: "read", handle: connectors(false, false) },
  { method: "POST", pattern: "/v1/volume/connectors", access: "write", handle: createConnector },
  { method: "GET", pattern: "/v1/volume/connectors/detail", access: "read", handle: connectors(true, false) },
  { method: "GET", pattern: "/v1/volume/connectors/:connector", access: "read", handle: showConnector },
  { method: "PATCH", pattern: "/v1/volume/connectors/:connector", access: "write", handle: patchConnector },
  { method: "DELETE", pattern: "/v1/volume/connectors/:connector", access: "write", handle: removeConnector },
  { method: "GET", pattern: "/v1/volume/targets", access: "read", handle: targets(false, false) },
  { method: "POST", pattern: "/v1/volume/targets", access: "write", handle: createTarget },
  { method: "GET", pattern: "/v1/volume/targets/detail", access: "read", handle: targets(true, false) },
  { method: "GET", pattern: "/v1/volume/targets/:target", access: "read", handle: showTarget },
  { method: "PATCH", pattern: "/v1/volume/targets/:target", access: "write", handle: patchTarget },
  { method: "DELETE", pattern: "/v1/volume/targets/:target", access: "write", handle: removeTarget },
  { method: "GET", pattern: "/v1/nodes/:node/volume", access: "read", handle: nodeRoot },
  { method: "GET", pattern: "/v1/nodes/:node/volume/connectors", access: "read", handle: connectors(false, true) },
  { method: "GET", pattern: "/v1/nodes/:node/volume/targets", access: "read", handle: targets(false, true) },
]
