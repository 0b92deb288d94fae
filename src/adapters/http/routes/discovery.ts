// Discovery over HTTP (ADR 0090): POST /v1/continue_inspection {inventory, root_disk?} -> 202.
// Ironic's ramdisk endpoint for inspection data, here for machines no node knows. No key and no
// token (the machine has neither): bounded in size (64 KiB) and rate (per source address and
// overall), the inventory checked, and the answer the same whatever became of the post.
import * as t from "io-ts"
import { decodeOrThrow, JsonObject } from "../codecs.ts"
import { accepted, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest, HttpError } from "../errors.ts"
import { makeDiscoveryLimiter, type DiscoveryLimiter } from "../discovery-limit.ts"

/** A discovery post's largest body: an inventory of 256 disks and NICs fits with room to spare. */
export const DISCOVERY_BODY_LIMIT = 64 * 1024

// Ironic's agent sends more top-level fields (boot_interface, logs...): they are ignored, not refused.
const DiscoveryPost = t.intersection([
  t.type({ inventory: JsonObject }),
  t.partial({ root_disk: t.union([t.string, t.type({ name: t.string })]) }),
], "continue_inspection")

// One limiter per service (a process may run several, e.g. in tests).
const limiters = new WeakMap<object, DiscoveryLimiter>()
const limiterOf = (service: object) => {
  let l = limiters.get(service)
  if (l === undefined) limiters.set(service, l = makeDiscoveryLimiter())
  return l
}

const continueInspection = async (ctx: RequestContext): Promise<Reply> => {
  const source = ctx.remote ?? "unknown"
  const wait = limiterOf(ctx.service).take(source, Date.now())
  if (wait > 0) throw new HttpError(429, "Too many discovery posts; try again later.", "fault", { "Retry-After": String(wait) })
  const body = decodeOrThrow(DiscoveryPost, await ctx.body(), "continue_inspection")
  const named = body.root_disk === undefined ? undefined : typeof body.root_disk === "string" ? body.root_disk : body.root_disk.name
  const rootDisk = named?.replace(/^\/dev\//, "")
  if (rootDisk !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(rootDisk)) throw badRequest("root_disk must be a disk's name, as /sys/block names it.")
  await run(ctx.service.discover(body.inventory, rootDisk, ctx.remote ?? null))
  return accepted()
}

export const discoveryRoutes: ReadonlyArray<Route> = [
  { method: "POST", pattern: "/v1/continue_inspection", access: "ramdisk", handle: continueInspection, bodyLimit: DISCOVERY_BODY_LIMIT },
]
