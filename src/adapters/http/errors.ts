// Every error answer is {"error_message": "<JSON string>"}, as Ironic does. Two inner shapes:
// controller errors {faultstring, faultcode, debuginfo}; routing and version errors
// {code, title, description}. The application's tagged errors map to statuses here, in one place.
import type { DomainErrorCode } from "../../domain/index.ts"
import type { AppError } from "../../application/node-service.ts"

export type ErrorStyle = "fault" | "routing"

export class HttpError extends Error {
  readonly status: number
  readonly style: ErrorStyle
  readonly headers: Readonly<Record<string, string>>
  constructor(status: number, message: string, style: ErrorStyle = "fault", headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.style = style
    this.headers = headers
  }
}

export const badRequest = (message: string) => new HttpError(400, message)
export const notFound = (message: string) => new HttpError(404, message)
export const conflict = (message: string) => new HttpError(409, message)

const titles: Record<number, string> = {
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
  406: "Not Acceptable", 409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type",
  431: "Request Header Fields Too Large", 500: "Internal Server Error", 503: "Service Unavailable",
}

export const statusTitle = (status: number): string => titles[status] ?? "Error"

export const errorBody = (e: HttpError): { readonly error_message: string } => ({
  error_message: JSON.stringify(
    e.style === "routing"
      ? { code: e.status, title: statusTitle(e.status), description: e.message }
      : { faultstring: e.message, faultcode: e.status >= 500 ? "Server" : "Client", debuginfo: null },
  ),
})

const domainStatus: Record<DomainErrorCode, number> = {
  InvalidTransition: 400,
  InvalidInput: 400,
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  CallbackRefused: 400,
  QueueFull: 503,
}

/** Seconds a client is told to wait when a node's action queue is full (ADR 0050). */
export const queueFullRetryAfter = "10"

/** The one mapping from application errors to HTTP answers. */
export const fromAppError = (e: AppError): HttpError => {
  switch (e._tag) {
    case "NodeNotFound": case "PortNotFound": case "DriverNotFound": case "AllocationNotFound": case "DeployTemplateNotFound": case "ResourceNotFound": return new HttpError(404, e.message)
    case "Conflict": return new HttpError(409, e.message)
    case "InvalidInput": return new HttpError(400, e.message)
    case "Refused":
      if (e.error.code === "QueueFull") return new HttpError(503, e.error.message, "fault", { "Retry-After": queueFullRetryAfter })
      return new HttpError(domainStatus[e.error.code] ?? 400, e.error.message)
    case "StoreUnavailable":
      return new HttpError(503, "The event store is unavailable; try again.", "fault", { "Retry-After": "2" })
  }
}
