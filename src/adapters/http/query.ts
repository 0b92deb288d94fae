// Query-string parameters: paging, filters and booleans, each refused with a 400 when malformed.
import * as E from "fp-ts/lib/Either.js"
import { ProvisionStateCodec, Driver, Uuid } from "../../domain/index.ts"
import type { NodeFilter, Page } from "../../application/node-service.ts"
import { badRequest, HttpError } from "./errors.ts"
import { nodeFilterIntroducedIn } from "./node-fields.ts"

/** Ironic's api.max_limit default. */
export const maxLimit = 1000

export const pageOf = (q: URLSearchParams): Page & { readonly explicitLimit: boolean } => {
  const rawLimit = q.get("limit")
  let limit = maxLimit
  if (rawLimit !== null) {
    if (!/^\d{1,9}$/.test(rawLimit)) throw badRequest(`Limit must be a positive integer, not ${JSON.stringify(rawLimit.slice(0, 40))}.`)
    const n = Number(rawLimit)
    if (n < 1) throw badRequest("Limit must be positive.")
    limit = Math.min(n, maxLimit)
  }
  const marker = q.get("marker")
  if (marker !== null && !Uuid.is(marker.toLowerCase())) {
    throw badRequest(`Marker must be a UUID, not ${JSON.stringify(marker.slice(0, 60))}.`)
  }
  return { limit, explicitLimit: rawLimit !== null, ...(marker === null ? {} : { marker: marker.toLowerCase() }) }
}

export const booleanOf = (raw: string, name: string): boolean => {
  const v = raw.trim().toLowerCase()
  if (["true", "1", "yes", "on", "y", "t"].includes(v)) return true
  if (["false", "0", "no", "off", "n", "f"].includes(v)) return false
  throw badRequest(`Unrecognized value ${JSON.stringify(raw.slice(0, 40))} for ${name}, acceptable values are true and false.`)
}

/** Every GET /v1/nodes parameter must be known and allowed at the request's version: none is dropped. */
export const checkNodeQuery = (q: URLSearchParams, version: number): void => {
  for (const key of new Set(q.keys())) {
    const since = nodeFilterIntroducedIn[key]
    if (since === undefined || !Object.hasOwn(nodeFilterIntroducedIn, key)) {
      throw badRequest(`Unknown argument ${JSON.stringify(key.slice(0, 40))}: GET /v1/nodes accepts ${Object.keys(nodeFilterIntroducedIn).sort().join(", ")}.`)
    }
    if (since > version) {
      throw new HttpError(406, `Request not acceptable. The minimal required API version should be 1.${since} to use ${key}.`)
    }
  }
}

const text = (q: URLSearchParams, name: string, max = 255): string | undefined => {
  const v = q.get(name)
  if (v === null) return undefined
  if (v.length > max) throw badRequest(`${name} must be at most ${max} characters.`)
  return v
}

export const nodeFilterOf = (q: URLSearchParams): NodeFilter => {
  const filter: { -readonly [K in keyof NodeFilter]: NodeFilter[K] } = {}
  const state = q.get("provision_state")
  if (state !== null) {
    const decoded = ProvisionStateCodec.decode(state)
    if (E.isLeft(decoded)) throw badRequest(`Invalid provision_state ${JSON.stringify(state.slice(0, 40))}.`)
    filter.provisionState = decoded.right
  }
  const driver = q.get("driver")
  if (driver !== null) {
    if (E.isLeft(Driver.decode(driver))) throw badRequest(`Could not find the following driver(s) or hardware type(s): ${JSON.stringify(driver.slice(0, 40))}.`)
    filter.driver = driver
  }
  const maintenance = q.get("maintenance")
  if (maintenance !== null) filter.maintenance = booleanOf(maintenance, "maintenance")
  const associated = q.get("associated")
  if (associated !== null) filter.associated = booleanOf(associated, "associated")
  const retired = q.get("retired")
  if (retired !== null) filter.retired = booleanOf(retired, "retired")
  const instance = q.get("instance_uuid")
  if (instance !== null) {
    if (!Uuid.is(instance.toLowerCase())) throw badRequest(`Expected a UUID for instance_uuid but received ${JSON.stringify(instance.slice(0, 60))}.`)
    filter.instanceUuid = instance.toLowerCase()
  }
  const chassis = q.get("chassis_uuid")
  if (chassis !== null && !Uuid.is(chassis.toLowerCase())) throw badRequest(`Expected a UUID for chassis_uuid but received ${JSON.stringify(chassis.slice(0, 60))}.`)
  const fault = text(q, "fault")
  if (fault !== undefined) {
    if (!["power failure", "clean failure", "rescue abort failure"].includes(fault)) throw badRequest(`Invalid fault ${JSON.stringify(fault.slice(0, 40))}.`)
    filter.fault = fault
  }
  const conductor = text(q, "conductor")
  const pairs: ReadonlyArray<[string, keyof NodeFilter, number]> = [
    ["resource_class", "resourceClass", 80], ["conductor_group", "conductorGroup", 255], ["owner", "owner", 255],
    ["lessee", "lessee", 255], ["description_contains", "descriptionContains", 4096],
  ]
  for (const [param, key, max] of pairs) {
    const v = text(q, param, max)
    if (v !== undefined) (filter as Record<string, unknown>)[key] = v
  }
  if (chassis !== null) filter.chassisUuid = chassis.toLowerCase()
  if (conductor !== undefined) filter.conductor = conductor
  return filter
}

/** The `next` link Ironic adds when a page is full: same query, marker = last item. */
export const nextLink = (base: string, path: string, q: URLSearchParams, limit: number, items: ReadonlyArray<{ readonly uuid: string }>, full: boolean): string | undefined => {
  if (!full || items.length === 0) return undefined
  const params = new URLSearchParams(q)
  params.set("limit", String(limit))
  params.set("marker", items[items.length - 1]!.uuid)
  return `${base}${path}?${params.toString()}`
}
