// API 1.77: ?fields= on /v1/drivers and /v1/drivers/{name}, as Ironic has it: 406 below 1.77,
// 400 together with ?detail=true or for a field a driver document does not have; links always stay.
import type { RequestContext } from "../context.ts"
import { badRequest, HttpError } from "../errors.ts"
import { parseFields, pickFields } from "../node-json.ts"

type Doc = Record<string, unknown>

export const driverFields = (ctx: RequestContext, detail: boolean): ((doc: Doc) => Doc) & { readonly picking: boolean } => {
  const fields = parseFields(ctx.query.get("fields"))
  if (fields === null) return Object.assign((doc: Doc) => doc, { picking: false })
  if (ctx.version < 77) throw new HttpError(406, "?fields= on drivers needs API version 1.77.")
  if (detail) throw badRequest("Can not specify ?detail=True and fields in the same request.")
  return Object.assign((doc: Doc) => pickFields(doc, fields, new Set(Object.keys(doc))), { picking: true })
}
