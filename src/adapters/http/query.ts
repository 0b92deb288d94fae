// Query-string parameters: paging, filters and booleans, each refused with a 400 when malformed.
import * as E from "fp-ts/lib/Either.js"
import { ProvisionStateCodec, Driver, Uuid } from "../../domain/index.ts"
import type { NodeFilter, Page } from "../../application/node-service.ts"
import { badRequest } from "./errors.ts"

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
