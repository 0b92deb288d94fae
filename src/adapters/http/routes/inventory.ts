// Inspection over HTTP (ADR 0058):
//   POST /v1/nodes/{id}/vendor_passthru/inventory {key, inventory, root_disk?} -> 202  (the ramdisk, with its key)
//   GET  /v1/nodes/{id}/inventory -> {inventory, plugin_data}               (Ironic 1.81)
import * as t from "io-ts"
import { decodeOrThrow, JsonObject, strict } from "../codecs.ts"
import { accepted, ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest, notFound } from "../errors.ts"

/** The API version that added the node inventory endpoint. */
export const INVENTORY_VERSION = 81

const InventoryPost = strict({ key: t.string, inventory: JsonObject }, { root_disk: t.string }, "inventory")

/** The ramdisk's inventory; any failure to take it is answered as pass_deploy_info's are. */
export const postInventory = async (ctx: RequestContext): Promise<Reply> => {
  const body = decodeOrThrow(InventoryPost, await ctx.body(), "inventory")
  if (body.key === "") throw badRequest("inventory needs the ramdisk's key.")
  if (body.root_disk !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(body.root_disk)) throw badRequest("root_disk must be a disk's name, as /sys/block names it.")
  await run(ctx.service.postInventory(ctx.params["node"]!, body.key, body.inventory, body.root_disk))
  return accepted()
}

const getInventory = async (ctx: RequestContext): Promise<Reply> => {
  // As Ironic: a resource newer than the version asked for does not exist for that client.
  if (ctx.version < INVENTORY_VERSION) throw notFound(`The resource could not be found (needs API version 1.${INVENTORY_VERSION}).`)
  const stored = await run(ctx.service.inventory(ctx.params["node"]!))
  return ok({ inventory: stored.inventory, plugin_data: { ...stored.pluginData, received_at: stored.receivedAt } })
}

export const inventoryRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/nodes/:node/inventory", access: "read", handle: getInventory },
]
