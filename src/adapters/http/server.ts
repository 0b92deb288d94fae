// The Ironic-v1-compatible HTTP API on plain node:http. Per request: admission (503 when
// saturated), routing (404/405), version negotiation (406), auth (401/403), then the route.
// Whatever goes wrong becomes an error document; bad input never reaches a 500.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { createReadStream } from "node:fs"
import type { AddressInfo, Socket } from "node:net"
import { randomUUID } from "node:crypto"
import * as E from "fp-ts/lib/Either.js"
import * as Effect from "effect/Effect"
import { authorize, noauth, type AuthConfig } from "./auth.ts"
import { defaultBodyLimit, readJsonBody } from "./body.ts"
import type { RamdiskTools, Reply, Service } from "./context.ts"
import { errorBody, HttpError, statusTitle } from "./errors.ts"
import { matchRoute } from "./router.ts"
import { negotiate, versionHeader, versionHeaders } from "./versions.ts"
import { methodLabel, requestIdHeaders, requestIdOf, type LogSink } from "./request-id.ts"
import type { PrometheusMetrics } from "../metrics/prometheus.ts"
import { createUi, type UiOptions } from "./ui/handler.ts"
import { createConsoleHub, type ConsoleHub } from "../console/hub.ts"
import { makeConsoleUpgrade } from "./ui/console-socket.ts"
import { consolePane } from "./ui/console-pane.ts"
import type { Lane } from "../system/background.ts"

export interface ApiOptions {
  /** A promise lets the server listen (and learn its port) before the application is built. */
  readonly service: Service | Promise<Service>
  readonly auth?: AuthConfig
  readonly bodyLimit?: number
  /** Requests handled at once before new ones get a 503. */
  readonly maxInFlight?: number
  /** One line per request (method, path, status, ms); never bodies or headers. */
  readonly log?: (line: string) => void
  /** Structured lines (request id, actor, node, route, status, ms); never bodies, headers or queries. */
  readonly logger?: LogSink
  /** Counts requests by route and status and serves GET /metrics. */
  readonly metrics?: Pick<PrometheusMetrics, "observeRequest" | "exposition">
  /** The web view's extras (the console pane); the view itself is always served under /ui. */
  readonly ui?: Pick<UiOptions, "nodeExtras" | "sessions">
  /** Serves enabled consoles; startApiServer makes one on the API's host. */
  readonly consoles?: ConsoleHub
  /** The ramdisk's tools bundle (ADR 0100). */
  readonly ramdiskTools?: () => Promise<RamdiskTools | null>
  /** Where requests that change something wait for their turn (ADR 0183); default: none. */
  readonly lane?: Lane
}

const hostPattern = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/

/** Links are built from Host, which is client input: only a well-formed one is echoed back. */
const baseOf = (req: IncomingMessage): string => {
  const host = req.headers.host
  if (host !== undefined && hostPattern.test(host)) return `http://${host}`
  const local = req.socket.localAddress ?? "127.0.0.1"
  return `http://${local.includes(":") ? `[${local}]` : local}:${req.socket.localPort ?? 6385}`
}

const send = (res: ServerResponse, reply: Reply, extraHeaders: Record<string, string>) => {
  if (res.headersSent || res.destroyed) return
  if (reply.file !== undefined) return sendFile(res, reply, reply.file, extraHeaders)
  // Text goes to the socket as a string: a Buffer per answer would be copied once more and held
  // outside the heap until a collection. Bytes kept from an earlier answer go as they are.
  const payload = reply.bytes ?? reply.text ?? (reply.body === undefined ? undefined : JSON.stringify(reply.body))
  res.writeHead(reply.status, {
    ...extraHeaders,
    ...(payload === undefined ? { "Content-Length": "0" } : { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(payload)) }),
    ...reply.headers,
  })
  res.end(payload)
}

const sendFile = (res: ServerResponse, reply: Reply, file: NonNullable<Reply["file"]>, extraHeaders: Record<string, string>) => {
  res.writeHead(reply.status, { ...extraHeaders, "Content-Type": "application/octet-stream", "Content-Length": String(file.bytes), ...reply.headers })
  createReadStream(file.path).on("error", () => res.destroy()).pipe(res)
}

const errorReply = (e: HttpError): Reply => ({ status: e.status, body: errorBody(e), headers: e.headers })

const splitTarget = (url: string): { readonly segments: ReadonlyArray<string>; readonly query: URLSearchParams } => {
  const q = url.indexOf("?")
  const path = q < 0 ? url : url.slice(0, q)
  if (!path.startsWith("/")) throw new HttpError(400, "The request target must be a path.", "routing")
  let segments: Array<string>
  try {
    segments = path.split("/").filter((s) => s !== "").map(decodeURIComponent)
  } catch {
    throw new HttpError(400, "The request path has a malformed percent-encoding.", "routing")
  }
  return { segments, query: new URLSearchParams(q < 0 ? "" : url.slice(q + 1)) }
}

/** The path without its query (a query may carry anything), cut short. */
const pathOf = (url: string | undefined): string => String(url ?? "/").split("?")[0]!.slice(0, 200)

export const createApiHandler = (options: ApiOptions) => {
  const auth = options.auth ?? noauth
  const bodyLimit = options.bodyLimit ?? defaultBodyLimit
  const maxInFlight = options.maxInFlight ?? 512
  let inFlight = 0
  const ui = createUi({
    service: options.service, auth,
    ...(options.consoles === undefined ? {} : { nodeExtras: consolePane }),
    ...options.ui,
  })

  /** What the request turned out to be, for its log line and metrics. */
  interface Seen { route?: string; actor?: string; node?: string }

  const answer = async (req: IncomingMessage, headers: Record<string, string>, seen: Seen): Promise<Reply> => {
    if (ui.wants(req)) {
      seen.route = "/ui"
      return ui.answer(req)
    }
    const { segments, query } = splitTarget(req.url ?? "/")
    const isV1 = segments[0] === "v1"
    if (isV1) Object.assign(headers, versionHeaders(null))
    const match = matchRoute(req.method ?? "GET", segments)
    if (match.kind === "none") throw new HttpError(404, "The resource could not be found.", "routing")
    if (match.kind === "method") {
      throw new HttpError(405, `The method ${String(req.method).slice(0, 16)} is not allowed for this resource.`, "routing", { Allow: match.allow.join(", ") })
    }
    seen.route = match.route.pattern
    if (match.params["node"] !== undefined) seen.node = match.params["node"]
    let version = 1
    if (isV1) {
      const raw = req.headers[versionHeader]
      const negotiated = negotiate(Array.isArray(raw) ? raw.join(",") : raw)
      if (E.isLeft(negotiated)) throw new HttpError(406, negotiated.left.description, "routing")
      version = negotiated.right
      Object.assign(headers, versionHeaders(version))
    }
    const token = req.headers["x-auth-token"]
    const actor = authorize(auth, match.route.access, req.method ?? "GET", Array.isArray(token) ? token[0] : token)
    seen.actor = actor
    let bodyRead: Promise<unknown> | undefined
    const service = await options.service
    return match.route.handle({
      method: req.method ?? "GET",
      params: match.params,
      query,
      version,
      base: baseOf(req),
      actor,
      service,
      remote: req.socket.remoteAddress ?? "unknown",
      body: () => (bodyRead ??= readJsonBody(req, match.route.bodyLimit ?? bodyLimit)),
      ...(options.consoles === undefined ? {} : { consoles: options.consoles }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics.exposition }),
      ...(options.ramdiskTools === undefined ? {} : { ramdiskTools: options.ramdiskTools }),
    })
  }

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now()
    const requestId = requestIdOf(req)
    const headers: Record<string, string> = requestIdHeaders(requestId)
    const seen: Seen = {}
    let reply: Reply
    if (inFlight >= maxInFlight) {
      reply = errorReply(new HttpError(503, "The server is saturated; try again shortly.", "fault", { "Retry-After": "1" }))
    } else {
      inFlight++
      try {
        // Reads are answered from the projections at once; a request that changes something waits
        // for the background lane's next slice, with the conductor's work (ADR 0183).
        if (options.lane !== undefined && req.method !== "GET" && req.method !== "HEAD") await options.lane.turn()
        reply = await answer(req, headers, seen)
      } catch (e) {
        if (e instanceof HttpError) reply = errorReply(e)
        else {
          options.log?.(`internal error on ${req.method} ${String(req.url).slice(0, 200)}: ${(e as Error)?.stack ?? String(e)}`)
          options.logger?.error({ request_id: requestId, ...seen, err: (e as Error)?.stack ?? String(e) }, "internal error")
          reply = errorReply(new HttpError(500, "The server failed to handle the request.", "fault"))
        }
      } finally {
        inFlight--
      }
    }
    send(res, reply, headers)
    const seconds = (performance.now() - started) / 1000
    const method = methodLabel(req.method)
    options.metrics?.observeRequest({ method, route: seen.route ?? "unmatched", status: reply.status, seconds })
    options.logger?.[reply.status >= 500 ? "error" : "info"]({
      request_id: requestId, actor: seen.actor ?? "unknown", ...(seen.node === undefined ? {} : { node: seen.node }),
      method, route: seen.route ?? "unmatched", path: pathOf(req.url), status: reply.status, ms: Math.round(seconds * 10_000) / 10,
    }, "request")
    options.log?.(`${req.method} ${String(req.url).slice(0, 200)} ${reply.status} ${(performance.now() - started).toFixed(1)}ms`)
  }
  const consoleSocket = options.consoles === undefined
    ? undefined
    : makeConsoleUpgrade({ hub: options.consoles, service: options.service, viewerOf: ui.viewerOf })
  return Object.assign(handler, { consoleSocket })
}

/** Malformed HTTP (bad request line, oversized headers) still gets an answer in the error format. */
const onClientError = (err: Error & { code?: string }, socket: Socket) => {
  if (!socket.writable || err.code === "ECONNRESET") return socket.destroy()
  const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400
  const body = JSON.stringify(errorBody(new HttpError(status, `Malformed HTTP request (${err.code ?? "unknown"}).`, "routing")))
  const id = Object.entries(requestIdHeaders(`req-${randomUUID()}`)).map(([k, v]) => `${k}: ${v}\r\n`).join("")
  socket.end(`HTTP/1.1 ${status} ${statusTitle(status)}\r\n${id}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
}

export interface RunningApi {
  readonly server: Server
  readonly port: number
  readonly url: string
  readonly close: () => Promise<void>
}

export const startApiServer = (options: ApiOptions & { readonly port?: number; readonly host?: string }): Promise<RunningApi> => {
  const host = options.host ?? "127.0.0.1"
  const consoles = options.consoles ?? createConsoleHub({ service: options.service, host, ...(options.log === undefined ? {} : { log: options.log }) })
  const handler = createApiHandler({ ...options, consoles })
  const server = createServer({ requestTimeout: 60_000, headersTimeout: 20_000, keepAliveTimeout: 5_000 }, (req, res) => {
    void handler(req, res)
  })
  server.on("clientError", onClientError)
  server.on("upgrade", (req, socket, head) => {
    if (handler.consoleSocket === undefined) { socket.destroy(); return }
    void handler.consoleSocket.upgrade(req, socket, head)
  })
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject)
      const port = (server.address() as AddressInfo).port
      resolve({
        server,
        port,
        url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
        close: async () => {
          await consoles.close()
          handler.consoleSocket?.close()
          await new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          })
        },
      })
    })
  })
}

/** The API as a scoped resource: listening while the scope is open, closed with it. */
export const serveApi = (options: ApiOptions & { readonly port?: number; readonly host?: string }) =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => startApiServer(options), catch: (e) => e as Error }),
    (api) => Effect.promise(() => api.close()),
  )
