// Ironic's request id: every answer carries one in X-OpenStack-Request-Id (and Openstack-Request-Id,
// the name Ironic's clients read). A client's own id is kept only when it has Ironic's shape
// (req-<uuid>): anything else is client text that would end up in our logs.
import type { IncomingMessage } from "node:http"
import { randomUUID } from "node:crypto"

const shape = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const requestIdOf = (req: IncomingMessage): string => {
  for (const name of ["x-openstack-request-id", "openstack-request-id"]) {
    const v = req.headers[name]
    const given = Array.isArray(v) ? v[0] : v
    if (given !== undefined && shape.test(given)) return given
  }
  return `req-${randomUUID()}`
}

export const requestIdHeaders = (id: string): Record<string, string> =>
  ({ "X-OpenStack-Request-Id": id, "Openstack-Request-Id": id })

/** Where the server writes its structured lines; a pino logger is one. */
export interface LogSink {
  readonly info: (fields: object, msg: string) => void
  readonly warn: (fields: object, msg: string) => void
  readonly error: (fields: object, msg: string) => void
}

const methods = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])

/** A method as a metric label or log field: client text, so unknown ones collapse into one value. */
export const methodLabel = (method: string | undefined): string => (method !== undefined && methods.has(method) ? method : "other")
