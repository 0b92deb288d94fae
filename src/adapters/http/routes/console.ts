// /v1/nodes/{id}/states/console: Ironic's node console (baremetal node console enable/disable/show).
// PUT {"enabled": true|false} switches it (recorded with the caller as actor); GET gives
// console_enabled and, while enabled, console_info {type: "socat", url: "tcp://host:port"}.
import { accepted, ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest, HttpError } from "../errors.ts"

const hubOf = (ctx: RequestContext) => {
  if (ctx.consoles === undefined) throw new HttpError(501, "This service does not serve consoles.")
  return ctx.consoles
}

const show = async (ctx: RequestContext): Promise<Reply> => {
  const node = await run(ctx.service.get(ctx.params["node"]!))
  if (!node.consoleEnabled) return ok({ console_enabled: false, console_info: null })
  // After a restart the log says enabled but nothing listens yet: serve it again, on a new port.
  const info = ctx.consoles?.info(node.uuid) ?? await hubOf(ctx).serve(node.uuid, ctx.actor)
  return ok({ console_enabled: true, console_info: info })
}

const change = async (ctx: RequestContext): Promise<Reply> => {
  const body = await ctx.body()
  const enabled = (body as { enabled?: unknown } | undefined)?.enabled
  if (typeof enabled !== "boolean") throw badRequest(`The body must be {"enabled": true} or {"enabled": false}.`)
  const hub = hubOf(ctx)
  if (enabled) {
    const node = await run(ctx.service.setConsole(ctx.params["node"]!, true, ctx.actor))
    await hub.serve(node.uuid, ctx.actor)
  } else {
    const node = await run(ctx.service.get(ctx.params["node"]!))
    await hub.stop(node.uuid)
    await run(ctx.service.setConsole(node.uuid, false, ctx.actor))
  }
  return accepted(`${ctx.base}/v1/nodes/${encodeURIComponent(ctx.params["node"]!)}/states/console`)
}

export const consoleRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/nodes/:node/states/console", access: "read", handle: show },
  { method: "PUT", pattern: "/v1/nodes/:node/states/console", access: "write", handle: change },
]
