// /v1/nodes/{id}/management/indicators (API 1.63): the node's indicators as Ironic lists them
// ({name: "<name>@<component>", component, readonly, states, links}), one's state, and setting it.
import * as t from "io-ts"
import { indicatorComponents, type IndicatorComponent } from "../../../application/hardware/indicators.ts"
import { decodeOrThrow, strict } from "../codecs.ts"
import { noContent, ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest, notFound } from "../errors.ts"

const since63 = (ctx: RequestContext) => {
  if (ctx.version < 63) throw notFound("Indicators are available from API version 1.63.")
}

/** "led@system" -> its name and component, as Ironic's IndicatorAtComponent splits it. */
const parseIndicator = (raw: string): { readonly name: string; readonly component: IndicatorComponent } => {
  const at = raw.lastIndexOf("@")
  const name = raw.slice(0, at)
  const component = raw.slice(at + 1)
  if (at <= 0 || !(indicatorComponents as ReadonlyArray<string>).includes(component) || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw badRequest(`Malformed indicator name ${JSON.stringify(raw.slice(0, 80))}: <name>@<component>, the component one of ${indicatorComponents.join(", ")}.`)
  }
  return { name, component: component as IndicatorComponent }
}

const SetBody = strict({ state: t.keyof({ off: null, on: null, blinking: null }, "one of off, on, blinking") }, {}, "indicator state")

const list = async (ctx: RequestContext): Promise<Reply> => {
  since63(ctx)
  const node = ctx.params["node"]!
  const found = await run(ctx.service.indicators(node))
  return ok({
    indicators: found.map((i) => {
      const id = `${i.name}@${i.component}`
      const path = `nodes/${encodeURIComponent(node)}/management/indicators/${id}`
      return { name: id, component: i.component, readonly: i.readonly, states: i.states, links: [{ href: `${ctx.base}/v1/${path}`, rel: "self" }, { href: `${ctx.base}/${path}`, rel: "bookmark" }] }
    }),
  })
}

const show = async (ctx: RequestContext): Promise<Reply> => {
  since63(ctx)
  const { name, component } = parseIndicator(ctx.params["indicator"]!)
  return ok({ state: await run(ctx.service.indicatorState(ctx.params["node"]!, component, name)) })
}

const set = async (ctx: RequestContext): Promise<Reply> => {
  since63(ctx)
  const { name, component } = parseIndicator(ctx.params["indicator"]!)
  // The state comes in the body ({"state": "on"}), or as ?state= as Ironic's controller also reads it.
  const body = (await ctx.body()) ?? (ctx.query.has("state") ? { state: ctx.query.get("state") } : {})
  const { state } = decodeOrThrow(SetBody, body, "indicator state")
  await run(ctx.service.setIndicatorState(ctx.params["node"]!, component, name, state, ctx.actor))
  return noContent
}

export const indicatorRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/nodes/:node/management/indicators", access: "read", handle: list },
  { method: "GET", pattern: "/v1/nodes/:node/management/indicators/:indicator", access: "read", handle: show },
  { method: "PUT", pattern: "/v1/nodes/:node/management/indicators/:indicator", access: "write", handle: set },
]
