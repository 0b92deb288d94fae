// /v1/nodes/{id}/history: Ironic's node history (1.78) fed from the event log, so it is complete
// (every event, never pruned) and carries ironledger's extras: actor, event type, the provision
// state it led to, duration and correlation. ?at=TIMESTAMP answers "what was this node then".
import { createHash } from "node:crypto"
import type { HistoryEntry } from "../../../application/node-service.ts"
import { Uuid } from "../../../domain/index.ts"
import { ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest, notFound } from "../errors.ts"
import { nodeDocument } from "../node-json.ts"
import { maxLimit } from "../query.ts"
import { historyFilterOf } from "./history-filter.ts"

/**
 * Entries need a UUID in Ironic's shape. Ours is derived from (node, revision): stable across
 * replays, and its last 12 hex digits are the revision, so a marker or an event id is resolved
 * without a look-up table.
 */
export const eventUuid = (nodeUuid: string, revision: number): string => {
  const h = createHash("sha256").update(`${nodeUuid}/${revision}`).digest("hex")
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${revision.toString(16).padStart(12, "0")}`
}

/** The revision an event id names, or null when it is not one of this node's ids. */
export const revisionOf = (nodeUuid: string, id: string): number | null => {
  if (/^\d{1,12}$/.test(id)) return Number(id)
  const m = /^[0-9a-f-]{24}([0-9a-f]{12})$/.exec(id.toLowerCase())
  if (m === null) return null
  const revision = parseInt(m[1]!, 16)
  return eventUuid(nodeUuid, revision) === id.toLowerCase() ? revision : null
}

/** A UUID is used as is, so the history of a deleted node stays readable; a name is resolved. */
const nodeUuidOf = async (ctx: RequestContext): Promise<string> => {
  const ref = ctx.params["node"]!
  return Uuid.is(ref.toLowerCase()) ? ref.toLowerCase() : (await run(ctx.service.get(ref))).uuid
}

const entryDocument = (nodeUuid: string, e: HistoryEntry, base: string, detail: boolean) => {
  const uuid = eventUuid(nodeUuid, e.revision)
  return {
    uuid,
    created_at: e.occurredAt,
    severity: e.severity.toUpperCase(),
    event: e.summary,
    ...(detail ? {
      event_type: e.event,
      conductor: "ironledger",
      user: e.actor,
      node_uuid: nodeUuid,
    } : {}),
    // ironledger additions.
    revision: e.revision,
    actor: e.actor,
    type: e.event,
    provision_state: e.provisionState,
    duration_ms: e.durationMs,
    correlation_id: e.correlationId,
    ...(detail ? { causation_id: e.causationId, data: e.data } : {}),
    links: [
      { href: `${base}/v1/nodes/${nodeUuid}/history/${uuid}`, rel: "self" },
      { href: `${base}/nodes/${nodeUuid}/history/${uuid}`, rel: "bookmark" },
    ],
  }
}

/** limit and marker (an event uuid, or a revision) for history pages. */
const historyPage = (ctx: RequestContext, nodeUuid: string) => {
  const rawLimit = ctx.query.get("limit")
  if (rawLimit !== null && !/^[1-9]\d{0,8}$/.test(rawLimit)) throw badRequest(`Limit must be a positive integer, not ${JSON.stringify(rawLimit.slice(0, 40))}.`)
  const limit = rawLimit === null ? maxLimit : Math.min(Number(rawLimit), maxLimit)
  const filter = historyFilterOf(ctx)
  const marker = ctx.query.get("marker")
  if (marker === null) return { limit, filter }
  const afterRevision = revisionOf(nodeUuid, marker)
  if (afterRevision === null) throw badRequest(`Marker ${JSON.stringify(marker.slice(0, 60))} is not an event of node ${nodeUuid}.`)
  return { limit, afterRevision, filter }
}

const isoTimestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/

const list = (detail: boolean) => async (ctx: RequestContext): Promise<Reply> => {
  const at = ctx.query.get("at")
  if (at !== null) {
    if (!isoTimestamp.test(at) || Number.isNaN(Date.parse(at))) {
      throw badRequest(`"at" must be an ISO 8601 timestamp with a time zone (e.g. 2024-05-01T12:00:00Z), not ${JSON.stringify(at.slice(0, 60))}.`)
    }
    const then = await run(ctx.service.stateAt(ctx.params["node"]!, new Date(at).toISOString()))
    return ok({ at: new Date(at).toISOString(), node: nodeDocument(then, ctx.base, ctx.version) })
  }
  const nodeUuid = await nodeUuidOf(ctx)
  const page = historyPage(ctx, nodeUuid)
  const entries = await run(ctx.service.history(nodeUuid, page))
  const docs = entries.map((e) => entryDocument(nodeUuid, e, ctx.base, detail))
  const body: Record<string, unknown> = { history: docs }
  if (entries.length >= page.limit) {
    const params = new URLSearchParams(ctx.query)
    params.set("limit", String(page.limit))
    params.set("marker", docs[docs.length - 1]!.uuid)
    body["next"] = `${ctx.base}/v1/nodes/${nodeUuid}/history${detail ? "/detail" : ""}?${params.toString()}`
  }
  return ok(body)
}

const one = async (ctx: RequestContext): Promise<Reply> => {
  const nodeUuid = await nodeUuidOf(ctx)
  const id = ctx.params["event"]!
  const revision = revisionOf(nodeUuid, id)
  const missing = () => notFound(`Node history record ${id.slice(0, 60)} could not be found.`)
  if (revision === null) throw missing()
  const [entry] = await run(ctx.service.history(nodeUuid, { limit: 1, ...(revision > 0 ? { afterRevision: revision - 1 } : {}) }))
  if (entry === undefined || entry.revision !== revision) throw missing()
  return ok(entryDocument(nodeUuid, entry, ctx.base, true))
}

export const historyRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/nodes/:node/history", access: "read", handle: list(false) },
  { method: "GET", pattern: "/v1/nodes/:node/history/detail", access: "read", handle: list(true) },
  { method: "GET", pattern: "/v1/nodes/:node/history/:event", access: "read", handle: one },
]
