// Redfish over HTTPS through undici: one connection pool per BMC and trust setting (the system's
// CAs, a CA bundle, or none when driver_info says so), basic auth or a session token (logged in
// once per BMC and user, again when the BMC forgets it), Redfish error bodies turned into words.
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { Agent, Dispatcher } from "undici"
import type { HardwareFailure } from "../../application/hardware/interfaces.ts"
import type { RedfishBmc } from "./settings.ts"

export interface RedfishClientConfig {
  /** Bound on one request, headers and body each; default 30 s. */
  readonly timeoutMs: number
}

export interface RedfishAnswer {
  readonly status: number
  readonly body: Record<string, unknown>
  readonly location: string | null
}

export interface RedfishClient {
  readonly get: (bmc: RedfishBmc, path: string) => Effect.Effect<Record<string, unknown>, HardwareFailure>
  readonly send: (bmc: RedfishBmc, method: "POST" | "PATCH", path: string, body: unknown) => Effect.Effect<RedfishAnswer, HardwareFailure>
}

const redfishMessage = (body: unknown): string | null => {
  const error = (body as { error?: { message?: unknown; "@Message.ExtendedInfo"?: ReadonlyArray<{ Message?: unknown }> } } | null)?.error
  const extended = error?.["@Message.ExtendedInfo"]?.map((m) => m.Message).filter((m) => typeof m === "string")
  return extended !== undefined && extended.length > 0 ? extended.join("; ") : typeof error?.message === "string" ? error.message : null
}

// undici (~110 modules, ~6 MB) loads with the first Redfish request: a service whose nodes never
// speak Redfish does not pay for it (ADR 0157).
let undici: Promise<typeof import("undici")> | undefined
const loadUndici = () => (undici ??= import("undici"))

class Failed extends Error {
  readonly status: number | null
  constructor(message: string, status: number | null) { super(message); this.status = status }
}

export const makeRedfishClient = (config: Partial<RedfishClientConfig> = {}): RedfishClient => {
  const timeoutMs = config.timeoutMs ?? 30_000
  const agents = new Map<string, Agent>()
  const sessions = new Map<string, string>()

  const agentFor = (bmc: RedfishBmc, lib: typeof import("undici")): Dispatcher => {
    const key = `${bmc.origin}|${String(bmc.verifyCa)}`
    let agent = agents.get(key)
    if (agent === undefined) {
      const tls = bmc.verifyCa === false ? { rejectUnauthorized: false }
        : bmc.verifyCa === true ? {}
        : { ca: readFileSync(bmc.verifyCa), rejectUnauthorized: true }
      agent = new lib.Agent({ connect: tls, keepAliveTimeout: 1000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
      agents.set(key, agent)
    }
    return agent
  }

  const sessionKey = (bmc: RedfishBmc) =>
    `${bmc.origin}|${bmc.username}|${createHash("sha256").update(Redacted.value(bmc.password)).digest("hex")}`

  const raw = async (bmc: RedfishBmc, method: string, path: string, body: unknown, auth: Record<string, string>) => {
    let r: Dispatcher.ResponseData
    try {
      const lib = await loadUndici()
      r = await lib.request(new URL(path, bmc.origin), {
        method: method as Dispatcher.HttpMethod, dispatcher: agentFor(bmc, lib),
        headers: { accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }), ...auth },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    } catch (e) {
      const err = e as Error & { code?: string; cause?: { code?: string; message?: string } }
      const code = err.code ?? err.cause?.code
      throw new Failed(`Redfish BMC ${bmc.origin} unreachable: ${code === undefined ? "" : `${code}: `}${err.cause?.message ?? err.message}`, null)
    }
    const text = await r.body.text()
    let json: Record<string, unknown> = {}
    if (text.trim() !== "") {
      try { json = JSON.parse(text) } catch { if (r.statusCode < 300) throw new Failed(`Redfish BMC ${bmc.origin} answered ${method} ${path} with something other than JSON`, r.statusCode) }
    }
    const location = r.headers["location"]
    const token = r.headers["x-auth-token"]
    return { status: r.statusCode, body: json, location: typeof location === "string" ? location : null, token: typeof token === "string" ? token : null }
  }

  const basic = (bmc: RedfishBmc) => ({ authorization: `Basic ${Buffer.from(`${bmc.username}:${Redacted.value(bmc.password)}`).toString("base64")}` })

  /** A session token for this BMC and user: the one held, or a new login. null: use basic auth (auto, no session service). */
  const tokenFor = async (bmc: RedfishBmc, fresh: boolean): Promise<string | null> => {
    const key = sessionKey(bmc)
    if (!fresh && sessions.has(key)) return sessions.get(key)!
    const r = await raw(bmc, "POST", "/redfish/v1/SessionService/Sessions", { UserName: bmc.username, Password: Redacted.value(bmc.password) }, {})
    if (r.status < 300 && r.token !== null) { sessions.set(key, r.token); return r.token }
    if (bmc.authType === "auto" && (r.status === 404 || r.status === 405 || r.status === 501)) return null
    throw new Failed(`Redfish BMC ${bmc.origin} refused a session for ${bmc.username || "(no user)"}: ${r.status} ${redfishMessage(r.body) ?? ""}`.trim(), r.status)
  }

  const call = async (bmc: RedfishBmc, method: string, path: string, body?: unknown) => {
    let auth: Record<string, string> = basic(bmc)
    if (bmc.authType !== "basic") {
      const token = await tokenFor(bmc, false)
      if (token !== null) auth = { "x-auth-token": token }
    }
    let r = await raw(bmc, method, path, body, auth)
    if (r.status === 401 && "x-auth-token" in auth) {
      // The BMC forgot the session (timeout, restart): log in again, once.
      const token = await tokenFor(bmc, true)
      r = await raw(bmc, method, path, body, token === null ? basic(bmc) : { "x-auth-token": token })
    }
    if (r.status >= 400) {
      throw new Failed(`Redfish BMC ${bmc.origin} answered ${r.status} to ${method} ${path}${r.status === 401 ? " (credentials refused)" : ""}: ${redfishMessage(r.body) ?? "no reason given"}`, r.status)
    }
    return r
  }

  const attempt = <A>(work: () => Promise<A>) =>
    Effect.tryPromise({ try: work, catch: (e): HardwareFailure => ({ message: e instanceof Error ? e.message : String(e) }) })

  return {
    get: (bmc, path) => attempt(async () => (await call(bmc, "GET", path)).body),
    send: (bmc, method, path, body) => attempt(async () => {
      const r = await call(bmc, method, path, body)
      return { status: r.status, body: r.body, location: r.location }
    }),
  }
}
