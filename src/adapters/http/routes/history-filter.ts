// ironledger's history filters, as query parameters: since, until (ISO 8601), type (comma
// separated or repeated), actor, and noise=hide to leave out refused ramdisk call-backs.
import type { HistoryFilter } from "../../../application/history-filter.ts"
import type { RequestContext } from "../context.ts"
import { badRequest } from "../errors.ts"
import { instantParam } from "./fleet.ts"

export const historyFilterOf = (ctx: RequestContext): HistoryFilter => {
  const since = instantParam(ctx, "since")
  const until = instantParam(ctx, "until")
  const types = ctx.query.getAll("type").flatMap((t) => t.split(",")).map((t) => t.trim()).filter((t) => t !== "")
  const actor = ctx.query.get("actor")
  const noise = ctx.query.get("noise")
  if (noise !== null && noise !== "hide" && noise !== "show") throw badRequest(`"noise" is "hide" or "show", not ${JSON.stringify(noise.slice(0, 20))}.`)
  return {
    ...(since === null ? {} : { since }), ...(until === null ? {} : { until }),
    ...(types.length === 0 ? {} : { types }), ...(actor === null ? {} : { actor }),
    hideNoise: noise === "hide",
  }
}
