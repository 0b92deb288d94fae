// /v1/drivers: the hardware types this service enables, each with its interfaces per slot and the
// driver_info its default interfaces read (`baremetal driver list/show/property list`).
import type { DriverView } from "../../../application/node-service.ts"
import { interfaceSlots } from "../../../domain/index.ts"
import { ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest } from "../errors.ts"
import { links } from "../node-json.ts"
import { driverFields } from "./driver-fields.ts"
import { booleanOf } from "../query.ts"

/** One conductor group serves every hardware type: the API's host stands for it. */
const HOST = "ironledger"

const driverDocument = (d: DriverView, ctx: RequestContext, detail: boolean) => {
  const doc: Record<string, unknown> = {
    name: d.name,
    hosts: [HOST],
    type: "dynamic",
    links: links(ctx.base, "drivers", d.name),
    properties: links(ctx.base, "drivers", `${d.name}/properties`),
  }
  if (!detail || ctx.version < 30) return doc
  for (const slot of interfaceSlots) {
    if (slot === "firmware" && ctx.version < 86) continue
    doc[`default_${slot}_interface`] = d.interfaces[slot].default
    doc[`enabled_${slot}_interfaces`] = d.interfaces[slot].enabled
  }
  return doc
}

const list = async (ctx: RequestContext): Promise<Reply> => {
  const type = ctx.query.get("type")
  if (type !== null && type !== "classic" && type !== "dynamic") throw badRequest(`Invalid driver type ${JSON.stringify(type.slice(0, 40))}: classic or dynamic.`)
  const detail = ctx.query.has("detail") && booleanOf(ctx.query.get("detail")!, "detail")
  // Hardware types are Ironic's "dynamic" drivers; there are no classic ones.
  const fields = driverFields(ctx, detail)
  const drivers = type === "classic" ? [] : await run(ctx.service.drivers())
  return ok({ drivers: drivers.map((d) => fields(driverDocument(d, ctx, detail || fields.picking))) })
}

const show = async (ctx: RequestContext): Promise<Reply> => {
  const fields = driverFields(ctx, false)
  return ok(fields(driverDocument(await run(ctx.service.driver(ctx.params["driver"]!)), ctx, true)))
}

/** Ironic's shape: name -> description, "Required." added where a node must have it. */
const properties = async (ctx: RequestContext): Promise<Reply> => {
  const d = await run(ctx.service.driver(ctx.params["driver"]!))
  return ok(Object.fromEntries(d.properties.map((p) => [p.name, p.required ? `${p.description} Required.` : p.description])))
}

/** No hardware type has driver-level vendor methods (API 1.1): the list is empty and a call is refused. */
const vendorMethods = async (ctx: RequestContext): Promise<Reply> => {
  await run(ctx.service.driver(ctx.params["driver"]!))
  return ok({})
}

const vendorCall = async (ctx: RequestContext): Promise<Reply> => {
  const d = await run(ctx.service.driver(ctx.params["driver"]!))
  const name = (ctx.query.get("method") ?? "").slice(0, 60)
  throw badRequest(`Unsupported method (${name}) passed through to vendor extension; the ${d.name} driver has no vendor methods.`)
}

export const driverRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/drivers", access: "read", handle: list },
  { method: "GET", pattern: "/v1/drivers/:driver", access: "read", handle: show },
  { method: "GET", pattern: "/v1/drivers/:driver/properties", access: "read", handle: properties },
  { method: "GET", pattern: "/v1/drivers/:driver/vendor_passthru/methods", access: "read", handle: vendorMethods },
  { method: "POST", pattern: "/v1/drivers/:driver/vendor_passthru", access: "write", handle: vendorCall },
]
