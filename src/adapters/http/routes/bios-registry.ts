// API 1.74 on /v1/nodes/{id}/bios: each setting's registry fields, and ?detail= and ?fields= on the
// list, as Ironic has them (below 1.74 either query is a 406; both together a 400). By default the
// list shows name and value; detail adds the registry fields.
import { biosRegistryFields, type BiosRegistryEntry } from "../../../domain/index.ts"
import type { RequestContext } from "../context.ts"
import { badRequest, HttpError } from "../errors.ts"
import { parseFields } from "../node-json.ts"

export const BIOS_REGISTRY_VERSION = 74

export const registryFieldsOf = (entry: BiosRegistryEntry | undefined): Record<string, unknown> =>
  Object.fromEntries(biosRegistryFields.map((f) => [f, entry?.[f] ?? null]))

const truthy = (v: string) => ["true", "1", "yes", "on"].includes(v.toLowerCase())

/** The fields a list shows, or null for the whole document (below 1.74 Ironic shows all it has). */
export const biosListFields = (ctx: RequestContext): ReadonlyArray<string> | null => {
  const fields = parseFields(ctx.query.get("fields"))
  const detail = ctx.query.get("detail")
  if (ctx.version < BIOS_REGISTRY_VERSION) {
    if (fields !== null || detail !== null) throw new HttpError(406, "?detail= and ?fields= on BIOS settings need API version 1.74.")
    return null
  }
  if (detail !== null && !/^(true|false|1|0|yes|no|on|off)$/i.test(detail)) throw badRequest(`Invalid detail ${JSON.stringify(detail.slice(0, 40))}.`)
  if (fields !== null && detail !== null && truthy(detail)) throw badRequest("Can not specify ?detail=True and fields in the same request.")
  if (fields !== null) return fields
  return detail !== null && truthy(detail) ? ["name", "value", ...biosRegistryFields] : ["name", "value"]
}
