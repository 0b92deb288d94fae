// The ramdisk's tools bundle (ADR 0100): GET /v1/ramdisk-tools is its manifest {sha256, bytes,
// path}, GET /v1/ramdisk-tools/{sha256} its bytes. Open without a token, as the deploy images are
// on TFTP: Debian's stress-ng, memtester and fio hold nothing secret. The ramdisk checks the bytes
// against the manifest's sha256 before it unpacks them.
import { ok, type RequestContext, type Reply, type Route } from "../context.ts"
import { notFound } from "../errors.ts"

const bundleOf = async (ctx: RequestContext) => {
  const tools = ctx.ramdiskTools === undefined ? null : await ctx.ramdiskTools()
  if (tools === null) throw notFound("This service has no ramdisk tools bundle (ironledger ramdisk build --tools).")
  return tools
}

const manifest = async (ctx: RequestContext): Promise<Reply> => {
  const t = await bundleOf(ctx)
  return ok({ sha256: t.sha256, bytes: t.bytes, path: `/v1/ramdisk-tools/${t.sha256}` })
}

const bytes = async (ctx: RequestContext): Promise<Reply> => {
  const t = await bundleOf(ctx)
  if (ctx.params["sha256"] !== t.sha256) throw notFound(`No tools bundle ${String(ctx.params["sha256"]).slice(0, 64)}; the current one is ${t.sha256}.`)
  return { status: 200, file: { path: t.path, bytes: t.bytes } }
}

export const ramdiskToolsRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/ramdisk-tools", access: "ramdisk", handle: manifest },
  { method: "GET", pattern: "/v1/ramdisk-tools/:sha256", access: "ramdisk", handle: bytes },
]
