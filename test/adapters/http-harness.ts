// Shared by the HTTP tests: the real service (SQLite log in a temp dir, API on an ephemeral
// loopback port) and a small fetch client that keeps status, headers and the parsed body.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { EventStore, type StoredEvent } from "../../src/ports/index.ts"
import { startService, type ServiceOptions } from "../../src/cli/service.ts"

export interface TestService {
  readonly url: string
  readonly db: string
  readonly dir: string
  readonly close: () => Promise<void>
}

export const startTestService = async (options: Partial<ServiceOptions> = {}): Promise<TestService> => {
  const dir = mkdtempSync(join(tmpdir(), "ironledger-http-"))
  const db = join(dir, "log.db")
  try {
    const running = await startService({ db, ...options })
    return {
      url: running.url, db, dir,
      close: async () => {
        await running.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
}

export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly body: any
}

/** `url` may be a function, read at each call: a service started in before() has none yet. */
export const client = (url: string | (() => string), defaults: Record<string, string> = { "X-OpenStack-Ironic-API-Version": "1.78" }, timeoutMs = 10_000) =>
  async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(`${typeof url === "string" ? url : url()}${path}`, {
      method,
      headers: { ...defaults, ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    })
    const text = await res.text()
    let parsed: unknown
    try { parsed = text === "" ? undefined : JSON.parse(text) } catch { parsed = undefined }
    return { status: res.status, headers: res.headers, text, body: parsed }
  }

/** For calls that must succeed: the parsed body ({} when empty), or a failed assertion with the answer. */
export const okClient = (url: string | (() => string), timeoutMs = 15_000) => {
  const call = client(url, undefined, timeoutMs)
  return async (method: string, path: string, body?: unknown): Promise<Record<string, any>> => {
    const a = await call(method, path, body)
    assert.ok(a.status < 300, `${method} ${path}: ${a.status} ${a.text}`)
    return a.body ?? {}
  }
}

/** The inner document of an Ironic error answer, checked to be in the error format. */
export const errorOf = (a: Answer): Record<string, unknown> => {
  assert.equal(typeof a.body?.error_message, "string", `expected an error document, got ${a.text.slice(0, 200)}`)
  const inner = JSON.parse(a.body.error_message) as Record<string, unknown>
  const fault = typeof inner["faultstring"] === "string" && (inner["faultcode"] === "Client" || inner["faultcode"] === "Server")
  const routing = typeof inner["description"] === "string" && typeof inner["title"] === "string" && typeof inner["code"] === "number"
  assert.ok(fault || routing, `not an Ironic error document: ${a.body.error_message}`)
  return inner
}

export const messageOf = (a: Answer): string => {
  const inner = errorOf(a)
  return String(inner["faultstring"] ?? inner["description"])
}

/** Every event in the SQLite log, read through a second connection (what an auditor would see). */
export const readEvents = (db: string): Promise<ReadonlyArray<StoredEvent>> =>
  Effect.runPromise(Effect.provide(Effect.flatMap(EventStore, (s) => s.readAll()), makeSqliteEventStore(db)))

/** Enrolls a fake-hardware node and takes it through manage and provide; returns its UUID. */
export const enrollAvailable = async (api: ReturnType<typeof client>, name: string, extra: Record<string, unknown> = {}) => {
  const r = await api("POST", "/v1/nodes", { driver: "fake-hardware", name, ...extra })
  assert.equal(r.status, 201, r.text)
  for (const [target, state] of [["manage", "manageable"], ["provide", "available"]] as const) {
    assert.equal((await api("PUT", `/v1/nodes/${name}/states/provision`, { target })).status, 202)
    await settleNode(api, name, state)
  }
  return r.body.uuid as string
}

export interface SettleOptions {
  /** How long to wait. Default 10 s. */
  readonly ms?: number
  /**
   * The node's provision_updated_at before the request, for a request to the state the node is already
   * in (a rebuild): a request queued behind the node's pending step leaves that state as it is for a
   * while, and only the state entered again counts.
   */
  readonly since?: string | undefined
  /** Between two reads. Default 25 ms. */
  readonly pollMs?: number
  /** What a failure adds to its message: the last lines of a console or of the service. */
  readonly context?: () => string
}

/**
 * Polls a node (`read` returns its API document) until it rests in `state` (no target left); fails at
 * once in another failed state, or after `ms`. The one wait of the HTTP and end-to-end tests.
 */
export const untilSettled = async (read: (name: string) => Promise<Record<string, any>>, name: string, state: string, options: SettleOptions = {}) => {
  const { ms = 10_000, since, pollMs = 25, context } = options
  const more = () => (context === undefined ? "" : `\n${context()}`)
  for (const deadline = Date.now() + ms; ;) {
    const n = await read(name)
    if (n["provision_state"] === state && n["target_provision_state"] === null && n["provision_updated_at"] !== since) return n
    if (/failed$/.test(n["provision_state"]) && n["provision_state"] !== state) assert.fail(`${name} ${n["provision_state"]}: ${n["last_error"]}${more()}`)
    if (Date.now() > deadline) assert.fail(`${name} did not reach ${state} within ${ms} ms (now ${n["provision_state"]}: ${n["last_error"]})${more()}`)
    await new Promise((r) => setTimeout(r, pollMs))
  }
}

/** untilSettled through a `client`. */
export const settleNode = (api: ReturnType<typeof client>, name: string, state: string, ms = 10_000, since?: string) =>
  untilSettled(async (n) => (await api("GET", `/v1/nodes/${n}`)).body, name, state, { ms, since })
