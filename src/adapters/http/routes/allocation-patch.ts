// PATCH /v1/allocations/{id} (API 1.57): name and extra only, as Ironic's PATCH_ALLOWED_FIELDS;
// paths checked segment by segment as a node's are.
import { decodeOrThrow, isPlainObject, NodeNameInput, PatchDocument } from "../codecs.ts"
import { ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest, HttpError } from "../errors.ts"
import { applyInside, pointer, refuseForbiddenKeys, valueOf } from "../patch.ts"
import { allocationDocument } from "./allocations.ts"

const patch = async (ctx: RequestContext): Promise<Reply> => {
  // Below 1.57 Ironic has no PATCH on allocations: the method is not allowed.
  if (ctx.version < 57) throw new HttpError(405, "PATCH on an allocation needs API version 1.57.", "routing", { Allow: "GET, DELETE" })
  const ops = decodeOrThrow(PatchDocument, await ctx.body(), "JSON patch")
  const current = await run(ctx.service.allocation(ctx.params["allocation"]!))
  let name: string | null = current.name
  const extra = structuredClone(current.extra)
  const touched = new Set<string>()
  for (const op of ops) {
    const [field, ...rest] = pointer(op.path)
    if (field !== "name" && field !== "extra") throw badRequest(`Cannot patch ${JSON.stringify(op.path.slice(0, 80))}. Only the following can be updated: extra, name.`)
    if ("value" in op) refuseForbiddenKeys(op.value, `value of ${op.path.slice(0, 80)}`)
    touched.add(field)
    if (field === "name") {
      if (rest.length > 0) throw badRequest(`Invalid patch path ${JSON.stringify(op.path.slice(0, 80))}: name has no members.`)
      const value = op.op === "remove" ? null : valueOf(op)
      name = value === null ? null : decodeOrThrow(NodeNameInput, value, "name")
    } else if (rest.length > 0) {
      applyInside(extra, rest, op, current.uuid)
    } else if (op.op === "remove") {
      for (const k of Object.keys(extra)) delete extra[k]
    } else {
      const value = valueOf(op)
      if (!isPlainObject(value)) throw badRequest("/extra must be a JSON object.")
      for (const k of Object.keys(extra)) delete extra[k]
      Object.assign(extra, structuredClone(value))
    }
  }
  const updated = await run(ctx.service.updateAllocation(current.uuid, {
    ...(touched.has("name") ? { name } : {}),
    ...(touched.has("extra") ? { extra } : {}),
  }, ctx.actor))
  return ok(allocationDocument(updated, ctx.base, ctx.version))
}

export const allocationPatchRoutes: ReadonlyArray<Route> = [
  { method: "PATCH", pattern: "/v1/allocations/:allocation", access: "write", handle: patch },
]
