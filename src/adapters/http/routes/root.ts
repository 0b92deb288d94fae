// GET / and GET /v1: the version documents clients negotiate with.
import { ok, type Route } from "../context.ts"
import { rootDocument, v1Document } from "../versions.ts"

export const rootRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/", access: "public", handle: async (ctx) => ok(rootDocument(ctx.base)) },
  { method: "GET", pattern: "/v1", access: "public", handle: async (ctx) => ok(v1Document(ctx.base)) },
]
