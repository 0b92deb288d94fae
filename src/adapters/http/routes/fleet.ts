// GET /v1/fleet?at=TIMESTAMP: the whole fleet as it was at an instant (now when left out), folded
// from the log: counts by provision state and every node's state, power, maintenance and instance.
import type { FleetAt } from "../../../application/fleet-at.ts"
import { ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest } from "../errors.ts"

export const isoTimestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/

/** A query parameter holding an ISO 8601 instant with a time zone, or null when absent. */
export const instantParam = (ctx: RequestContext, name: string): string | null => {
  const raw = ctx.query.get(name)
  if (raw === null) return null
  if (!isoTimestamp.test(raw) || Number.isNaN(Date.parse(raw))) {
    throw badRequest(`"${name}" must be an ISO 8601 timestamp with a time zone (e.g. 2024-05-01T12:00:00Z), not ${JSON.stringify(raw.slice(0, 60))}.`)
  }
  return new Date(raw).toISOString()
}

export const fleetDocument = (fleet: FleetAt) => ({
  at: fleet.at,
  counts_by_state: fleet.countsByState,
  nodes: fleet.nodes.map((n) => ({
    uuid: n.uuid, name: n.name, provision_state: n.provisionState, power_state: n.powerState,
    maintenance: n.maintenance, instance_uuid: n.instanceUuid,
  })),
})

const fleet = async (ctx: RequestContext): Promise<Reply> => {
  const at = instantParam(ctx, "at") ?? new Date().toISOString()
  return ok(fleetDocument(await run(ctx.service.fleetAt(at))))
}

export const fleetRoutes: ReadonlyArray<Route> = [{ method: "GET", pattern: "/v1/fleet", access: "read", handle: fleet }]
