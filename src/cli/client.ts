// A small client of ironledger's (Ironic v1) API over fetch. Errors carry the API's own message.
import { maxVersion, versionString } from "../adapters/http/versions.ts"

export class ApiError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

export interface ClientOptions {
  readonly url: string
  readonly token?: string
  /** Per request; the API answers quickly, only a dead server makes this matter. */
  readonly timeoutMs?: number
}

/** Ironic's error documents hold JSON in a string: {faultstring} or {description}. */
export const errorMessageOf = (status: number, text: string): string => {
  try {
    const outer = JSON.parse(text) as { error_message?: unknown }
    if (typeof outer.error_message === "string") {
      try {
        const inner = JSON.parse(outer.error_message) as { faultstring?: unknown; description?: unknown }
        const message = inner.faultstring ?? inner.description
        if (typeof message === "string") return message
      } catch {
        return outer.error_message
      }
      return outer.error_message
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return text.trim() === "" ? `HTTP ${status}` : text.trim().slice(0, 500)
}

export interface Client {
  readonly url: string
  readonly request: <T = unknown>(method: string, path: string, body?: unknown) => Promise<T>
  readonly get: <T = unknown>(path: string) => Promise<T>
}

export const makeClient = (options: ClientOptions): Client => {
  const url = options.url.replace(/\/+$/, "")
  const request = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let response: Response
    try {
      response = await fetch(`${url}${path}`, {
        method,
        headers: {
          "X-OpenStack-Ironic-API-Version": versionString(maxVersion),
          Accept: "application/json",
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          ...(options.token === undefined ? {} : { "X-Auth-Token": options.token }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      })
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code
      throw new ApiError(0, `Cannot reach the ironledger API at ${url}: ${cause ?? (e as Error).message}`)
    }
    const text = await response.text()
    if (!response.ok) throw new ApiError(response.status, `${errorMessageOf(response.status, text)} (HTTP ${response.status})`)
    return (text === "" ? undefined : JSON.parse(text)) as T
  }
  return { url, request, get: (path) => request("GET", path) }
}

export const enc = encodeURIComponent
