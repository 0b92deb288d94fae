// GET /metrics: the Prometheus text exposition (ADR 0035), behind the same auth as other reads.
import type { Route } from "../context.ts"
import { HttpError } from "../errors.ts"

export const metricsRoutes: ReadonlyArray<Route> = [{
  method: "GET", pattern: "/metrics", access: "read",
  handle: async (ctx) => {
    if (ctx.metrics === undefined) throw new HttpError(404, "This service keeps no metrics.", "routing")
    const { contentType, text } = await ctx.metrics()
    return { status: 200, text, headers: { "Content-Type": contentType } }
  },
}]
