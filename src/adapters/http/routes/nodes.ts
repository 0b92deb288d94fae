// /v1/nodes: enroll, list, show, patch, delete, and the node's ports.
import type { EnrollInput } from "../../../application/node-service.ts"
import { interfaceSlots, type NodeInterfaces, type NodeName, type Uuid } from "../../../domain/index.ts"
import { decodeOrThrow, NodeCreate, PatchDocument } from "../codecs.ts"
import { noContent, ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest, HttpError } from "../errors.ts"
import { nodeDocument, nodeFieldNames, nodeSummaryFields, parseFields, pickFields, portDocument, portSummaryFields } from "../node-json.ts"
import { nodeTexts, okPage, okText } from "../node-text.ts"
import { applyNodePatch, enrollRecord, refuseForbiddenKeys } from "../patch.ts"
import { booleanOf, checkNodeQuery, nextLink, nodeFilterOf, pageOf } from "../query.ts"

/** The fields a document has at the request's version: `fields=` may only name these. */
const fieldsOf = (doc: Record<string, unknown>) => new Set(Object.keys(doc))

const list = (detail: boolean) => async (ctx: RequestContext): Promise<Reply> => {
  checkNodeQuery(ctx.query, ctx.version)
  const page = pageOf(ctx.query)
  const filter = nodeFilterOf(ctx.query)
  const fields = parseFields(ctx.query.get("fields"))
  const asDetail = detail || (ctx.query.has("detail") && booleanOf(ctx.query.get("detail")!, "detail"))
  if (detail && fields !== null) throw badRequest("Can not specify ?fields with /detail.")
  const nodes = await run(ctx.service.list(filter, page))
  // Only the fields shown are built: a summary page does not encode whole nodes.
  const shown = fields ?? (asDetail ? null : nodeSummaryFields.filter((f) => nodeFieldNames(ctx.version).has(f)))
  const docs = nodes.map(nodeTexts(ctx.base, ctx.version, shown))
  const next = nextLink(ctx.base, detail ? "/v1/nodes/detail" : "/v1/nodes", ctx.query, page.limit, nodes, nodes.length >= page.limit)
  return okPage(`${ctx.version} ${ctx.base} ${detail} ${ctx.query.toString()}`, docs, next)
}

const enroll = async (ctx: RequestContext): Promise<Reply> => {
  const raw = await ctx.body()
  refuseForbiddenKeys(raw, "node")
  const body = decodeOrThrow(NodeCreate, raw, "node")
  const driverInfo = body.driver_info ?? {}
  const interfaces: Record<string, string> = {}
  for (const slot of interfaceSlots) {
    const name = body[`${slot}_interface`]
    if (typeof name === "string") interfaces[slot] = name
  }
  const input: EnrollInput = {
    interfaces: interfaces as NodeInterfaces,
    ...(body.automated_clean === undefined ? {} : { automatedClean: body.automated_clean }),
    record: enrollRecord(body, ctx.version),
    ...(body.uuid === undefined ? {} : { uuid: body.uuid as Uuid }),
    name: (body.name ?? null) as NodeName | null,
    driver: body.driver,
    driverInfo,
    properties: body.properties ?? {},
    instanceInfo: body.instance_info ?? {},
    extra: body.extra ?? {},
  }
  const node = await run(ctx.service.enroll(input, ctx.actor))
  return {
    status: 201,
    body: nodeDocument(node, ctx.base, ctx.version),
    headers: { Location: `${ctx.base}/v1/nodes/${node.uuid}` },
  }
}

const show = async (ctx: RequestContext): Promise<Reply> => {
  const fields = parseFields(ctx.query.get("fields"))
  const node = await run(ctx.service.get(ctx.params["node"]!))
  return okText(nodeTexts(ctx.base, ctx.version, fields)(node))
}

/** ?reset_interfaces (API 1.45): only with a new driver; the one query parameter a node PATCH takes. */
const resetInterfacesOf = (ctx: RequestContext, changesDriver: boolean): { readonly resetInterfaces?: boolean } => {
  for (const key of ctx.query.keys()) {
    if (key !== "reset_interfaces") throw badRequest(`Unknown argument ${JSON.stringify(key.slice(0, 40))}: PATCH /v1/nodes/{node} accepts reset_interfaces.`)
  }
  const raw = ctx.query.get("reset_interfaces")
  if (raw === null) return {}
  if (ctx.version < 45) throw new HttpError(406, "Request not acceptable: reset_interfaces needs API version 1.45.")
  const reset = booleanOf(raw, "reset_interfaces")
  if (reset && !changesDriver) throw badRequest("The reset_interfaces parameter can only be used when changing the node's driver.")
  return { resetInterfaces: reset }
}

const patch = async (ctx: RequestContext): Promise<Reply> => {
  const ops = decodeOrThrow(PatchDocument, await ctx.body(), "patch")
  const node = await run(ctx.service.get(ctx.params["node"]!))
  const { changes, maintenance } = applyNodePatch(node, ops, ctx.version)
  const resetInterfaces = resetInterfacesOf(ctx, changes.driver !== undefined)
  let updated = Object.keys(changes).length === 0 ? node : await run(ctx.service.update(node.uuid, { ...changes, ...resetInterfaces }, ctx.actor))
  // Ironic accepts PATCH /maintenance; ironledger records it as the same event as PUT .../maintenance.
  if (maintenance !== undefined && maintenance !== node.maintenance) {
    await run(ctx.service.setMaintenance(node.uuid, maintenance, null, ctx.actor))
    updated = await run(ctx.service.get(node.uuid))
  }
  return ok(nodeDocument(updated, ctx.base, ctx.version))
}

const remove = async (ctx: RequestContext): Promise<Reply> => {
  await run(ctx.service.remove(ctx.params["node"]!, ctx.actor))
  return noContent
}

const portsOfNode = (detail: boolean) => async (ctx: RequestContext): Promise<Reply> => {
  const page = pageOf(ctx.query)
  const node = await run(ctx.service.get(ctx.params["node"]!))
  const ports = await run(ctx.service.listPorts({ nodeRef: node.uuid }, page))
  const docs = ports.map((p) => {
    const doc = portDocument(p, ctx.base, ctx.version)
    return detail ? doc : pickFields(doc, portSummaryFields, fieldsOf(doc))
  })
  const path = `/v1/nodes/${node.uuid}/ports${detail ? "/detail" : ""}`
  const next = nextLink(ctx.base, path, ctx.query, page.limit, ports, ports.length >= page.limit)
  return ok({ ports: docs, ...(next === undefined ? {} : { next }) })
}

export const nodeRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/nodes", access: "read", handle: list(false) },
  { method: "POST", pattern: "/v1/nodes", access: "write", handle: enroll },
  { method: "GET", pattern: "/v1/nodes/detail", access: "read", handle: list(true) },
  { method: "GET", pattern: "/v1/nodes/:node", access: "read", handle: show },
  { method: "PATCH", pattern: "/v1/nodes/:node", access: "write", handle: patch },
  { method: "DELETE", pattern: "/v1/nodes/:node", access: "write", handle: remove },
  { method: "GET", pattern: "/v1/nodes/:node/ports", access: "read", handle: portsOfNode(false) },
  { method: "GET", pattern: "/v1/nodes/:node/ports/detail", access: "read", handle: portsOfNode(true) },
]
