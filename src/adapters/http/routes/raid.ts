// Ironic's RAID API (1.12): PUT /v1/nodes/{id}/states/raid sets the node's target_raid_config
// (`baremetal node set --target-raid-config`), checked against Ironic's RAID schema and refused
// when the node's RAID interface builds none; GET /v1/drivers/{d}/raid/logical_disk_properties
// lists what a logical disk may say. raid_config shows what the last RAID step built (ADR 0101).
import * as E from "fp-ts/lib/Either.js"
import { checkTargetRaidConfig, logicalDiskProperties } from "../../../domain/index.ts"
import { noContent, ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest, notFound } from "../errors.ts"

export const RAID_VERSION = 12

const gated = (handle: (ctx: RequestContext) => Promise<Reply>) => async (ctx: RequestContext): Promise<Reply> => {
  if (ctx.version < RAID_VERSION) throw notFound(`The resource could not be found (needs API version 1.${RAID_VERSION}).`)
  return handle(ctx)
}

const setTarget = gated(async (ctx) => {
  const checked = checkTargetRaidConfig(await ctx.body())
  if (E.isLeft(checked)) throw badRequest(`Invalid target RAID configuration: ${checked.left}`)
  const node = await run(ctx.service.get(ctx.params["node"]!))
  if (Object.keys(checked.right).length > 0) {
    const raid = node.interfaces.raid ?? (await run(ctx.service.driver(node.driver))).interfaces.raid.default
    if (raid === null || raid.startsWith("no-")) {
      throw badRequest(`Node ${node.uuid}'s RAID interface "${raid ?? "none"}" builds no RAID; set raid_interface (e.g. "agent") first.`)
    }
  }
  await run(ctx.service.update(node.uuid, { targetRaidConfig: checked.right }, ctx.actor))
  return noContent
})

const logicalDiskDoc = gated(async (ctx) => {
  await run(ctx.service.driver(ctx.params["driver"]!))
  return ok(logicalDiskProperties)
})

export const raidRoutes: ReadonlyArray<Route> = [
  { method: "PUT", pattern: "/v1/nodes/:node/states/raid", access: "write", handle: setTarget },
  { method: "GET", pattern: "/v1/drivers/:driver/raid/logical_disk_properties", access: "read", handle: logicalDiskDoc },
]
