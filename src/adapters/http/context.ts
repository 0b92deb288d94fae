// What a route handler gets (the decoded request and a way to run use cases) and gives back.
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type { AppError, NodeService } from "../../application/node-service.ts"
import { fromAppError, HttpError } from "./errors.ts"
import type { ConsoleHub } from "../console/hub.ts"

export type Service = NodeService["Service"]

export interface RamdiskTools { readonly path: string; readonly sha256: string; readonly bytes: number }

/** GET-only routes are reads; `ramdisk` routes are open without a token (the deploy key guards them). */
export type Access = "public" | "read" | "write" | "ramdisk"

export interface RequestContext {
  readonly method: string
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  /** Negotiated minor version (1.N). */
  readonly version: number
  /** scheme://host[:port] for links and Location. */
  readonly base: string
  readonly actor: string
  readonly service: Service
  /** The peer's address. */
  readonly remote?: string
  /** The Prometheus exposition, when the service keeps metrics. */
  readonly metrics?: () => Promise<{ readonly contentType: string; readonly text: string }>
  /** Serves enabled consoles (TCP and the web view's WebSocket). */
  readonly consoles?: ConsoleHub
  /** The ramdisk's tools bundle (ADR 0100), when the service has one. */
  readonly ramdiskTools?: () => Promise<RamdiskTools | null>
  /** The parsed JSON body, `undefined` when there is none. Read once. */
  readonly body: () => Promise<unknown>
}

export interface Reply {
  readonly status: number
  readonly body?: unknown
  /** A body sent as is instead of JSON (its Content-Type in `headers`). */
  readonly text?: string
  /** The same, already encoded (a body kept and sent again as is). */
  readonly bytes?: Buffer
  readonly headers?: Readonly<Record<string, string>>
  /** A file streamed as the body (the ramdisk's tools bundle), its length known beforehand. */
  readonly file?: { readonly path: string; readonly bytes: number }
}

export interface Route {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  /** Segments; ":name" captures one path segment. */
  readonly pattern: string
  readonly access: Access
  readonly handle: (ctx: RequestContext) => Promise<Reply>
  /** Bytes of request body this route takes; default: the server's limit. */
  readonly bodyLimit?: number
}

/** Runs a use case; its typed failure becomes the matching HTTP error, a defect a 500. */
export const run = async <A>(effect: Effect.Effect<A, AppError>): Promise<A> => {
  // Reads the projection answers come as an Exit already: no fiber for them (ADR 0192).
  const exit = Exit.isExit(effect) ? effect as Exit.Exit<A, AppError> : await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return exit.value
  const error = Cause.findErrorOption(exit.cause)
  if (Option.isSome(error)) throw fromAppError(error.value)
  throw new HttpError(500, "The server failed to handle the request.", "fault")
}

export const ok = (body: unknown): Reply => ({ status: 200, body })
export const accepted = (location?: string): Reply =>
  ({ status: 202, ...(location === undefined ? {} : { headers: { Location: location } }) })
export const noContent: Reply = { status: 204 }
