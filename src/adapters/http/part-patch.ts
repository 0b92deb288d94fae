// JSON PATCH on a flat resource (port group, volume connector, volume target): each path checked
// segment by segment against the resource's own allow-list, dictionaries patched inside, the rest
// replaced whole. Returns the patched document and which fields were touched.
import { isPlainObject, type PatchOperation } from "./codecs.ts"
import { badRequest, HttpError } from "./errors.ts"
import { applyInside, pointer, refuseForbiddenKeys, valueOf } from "./patch.ts"

export interface PatchRules {
  readonly what: string
  /** Field -> the API version that allows patching it. */
  readonly fields: Readonly<Record<string, number>>
  readonly dicts: ReadonlySet<string>
  /** Fields that can not be removed, only replaced. */
  readonly required: ReadonlySet<string>
  /** Fields Ironic lets move the resource to another node: refused here with the way out. */
  readonly moving?: ReadonlySet<string>
}

export const applyFlatPatch = (
  current: Readonly<Record<string, unknown>>, ops: ReadonlyArray<PatchOperation>, version: number, rules: PatchRules, id: string,
): { readonly doc: Record<string, unknown>; readonly touched: ReadonlySet<string> } => {
  const doc: Record<string, unknown> = structuredClone({ ...current })
  const touched = new Set<string>()
  const allowed = Object.keys(rules.fields).sort().join(", ")
  for (const op of ops) {
    const [field, ...rest] = pointer(op.path) as [string, ...Array<string>]
    if (rules.moving?.has(field)) throw badRequest(`Cannot patch /${field}: ironledger does not move a ${rules.what} to another node; delete it and create it again.`)
    if (!Object.hasOwn(rules.fields, field)) throw badRequest(`Cannot patch ${JSON.stringify(op.path.slice(0, 80))}. Only the following can be updated: ${allowed}.`)
    if (rules.fields[field]! > version) throw new HttpError(406, `Request not acceptable: ${field} can be patched from API version 1.${rules.fields[field]}.`)
    if ("value" in op) refuseForbiddenKeys(op.value, `value of ${op.path.slice(0, 80)}`)
    touched.add(field)
    if (rules.dicts.has(field)) {
      const dict = doc[field] as Record<string, unknown>
      if (rest.length > 0) applyInside(dict, rest, op, id)
      else if (op.op === "remove") doc[field] = {}
      else {
        const value = valueOf(op)
        if (!isPlainObject(value)) throw badRequest(`/${field} must be a JSON object.`)
        doc[field] = structuredClone(value)
      }
      continue
    }
    if (rest.length > 0) throw badRequest(`Invalid patch path ${JSON.stringify(op.path.slice(0, 80))}: ${field} has no members.`)
    if (op.op === "remove") {
      if (rules.required.has(field)) throw badRequest(`'${field}' is a mandatory attribute and can not be removed.`)
      doc[field] = null
    } else doc[field] = valueOf(op)
  }
  return { doc, touched }
}
