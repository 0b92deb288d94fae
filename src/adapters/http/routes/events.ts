// POST /v1/events (API 1.54): Neutron's port events, validated as Ironic's schema does
// (network.bind_port, unbind_port, delete_port; port_id and the ids as UUIDs, a MAC); 204.
// Ironic only logs them; ironledger records each one about a port of its nodes in that node's history.
import * as t from "io-ts"
import type { NetworkEventInput } from "../../../application/node-service.ts"
import { decodeOrThrow, MacInput, strict, UuidInput } from "../codecs.ts"
import { noContent, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest, notFound } from "../errors.ts"

const EventName = t.keyof({ "network.bind_port": null, "network.unbind_port": null, "network.delete_port": null },
  "one of network.bind_port, network.unbind_port, network.delete_port")
const Text = new t.Type<string, string, unknown>("a string of at most 255 characters",
  (u): u is string => typeof u === "string" && u.length <= 255,
  (u, c) => (typeof u === "string" && u.length <= 255 ? t.success(u) : t.failure(u, c)), t.identity)

const NetworkEvent = strict({ event: EventName, port_id: UuidInput, mac_address: MacInput, status: Text }, {
  device_id: t.union([UuidInput, t.null]),
  "binding:host_id": t.union([UuidInput, t.null]),
  "binding:vnic_type": t.union([Text, t.null]),
}, "network event")

/** Ironic takes any number; a bound keeps one request's work small. */
const maxEvents = 100

const post = async (ctx: RequestContext): Promise<Reply> => {
  if (ctx.version < 54) throw notFound("The events endpoint is available from API version 1.54.")
  const body = decodeOrThrow(strict({ events: t.array(t.unknown) }, {}, "events"), await ctx.body(), "events")
  if (body.events.length === 0) throw badRequest("events must hold at least one event.")
  if (body.events.length > maxEvents) throw badRequest(`events may hold at most ${maxEvents} events.`)
  const events = body.events.map((raw, i): NetworkEventInput => {
    const e = decodeOrThrow(NetworkEvent, raw, `events[${i}]`)
    return {
      event: e.event, portId: e.port_id, macAddress: e.mac_address, status: e.status,
      deviceId: e.device_id ?? null, hostId: e["binding:host_id"] ?? null, vnicType: e["binding:vnic_type"] ?? null,
    }
  })
  await run(ctx.service.recordNetworkEvents(events, ctx.actor))
  return noContent
}

export const eventRoutes: ReadonlyArray<Route> = [
  { method: "POST", pattern: "/v1/events", access: "write", handle: post },
]
