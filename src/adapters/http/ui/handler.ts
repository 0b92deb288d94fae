// The web fleet view (ADR 0063): server-rendered pages under /ui (and / for browsers), read-only,
// behind the API's tokens. A browser signs in once with a token and then carries an HttpOnly,
// SameSite=Strict session cookie; the cookie is honoured only here, never by the API, so the API
// stays free of cross-site request forgery. Live parts of a page are re-fetched as fragments.
import type { IncomingMessage } from "node:http"
import { readFileSync } from "node:fs"
import type { HistoryEntry, NodeView } from "../../../application/node-service.ts"
import { authorize, type AuthConfig } from "../auth.ts"
import { run, type Reply, type Service } from "../context.ts"
import { HttpError } from "../errors.ts"
import { nodeDocument } from "../node-json.ts"
import { maxLimit } from "../query.ts"
import { maxVersion } from "../versions.ts"
import type { Html } from "./html.ts"
import { errorPage, fleetBody, fleetPage, nodeLive, nodePage, signInPage, type FleetRow, type Moment, type Viewer } from "./pages.ts"
import { clearCookie, Sessions, setCookie } from "./sessions.ts"

export interface UiOptions {
  readonly service: Service | Promise<Service>
  readonly auth: AuthConfig
  readonly sessions?: Sessions
  /** Extra markup on a node page (the console pane), by node uuid. */
  readonly nodeExtras?: (node: NodeView, viewer: Viewer) => Html
}

/** How many of a node's latest events its page shows. */
const timelineLength = 300

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), "utf8")
const assets: Record<string, { readonly type: string; readonly text: string }> = {
  "app.css": { type: "text/css; charset=utf-8", text: asset("app.css") },
  "app.js": { type: "text/javascript; charset=utf-8", text: asset("app.js") },
}

/** Pages allow only their own stylesheet and script: a value that slipped past escaping still runs nothing. */
const pageHeaders = {
  "Content-Type": "text/html; charset=utf-8",
  "Cache-Control": "no-store",
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
}

const page = (status: number, body: Html, headers: Record<string, string> = {}): Reply =>
  ({ status, text: body.text, headers: { ...pageHeaders, ...headers } })

const redirect = (location: string, headers: Record<string, string> = {}): Reply =>
  ({ status: 303, headers: { Location: location, "Cache-Control": "no-store", ...headers } })

const pathAndQuery = (url: string) => {
  const u = new URL(url, "http://ui.invalid")
  return { path: u.pathname.replace(/\/+$/, "") || "/", query: u.searchParams }
}

/** GET / from a browser, or anything under /ui. */
export const wantsUi = (req: IncomingMessage): boolean => {
  // Every API request passes here: a plain /v1/ path (no dot segment or escape the URL parser could
  // turn into /ui) is answered without parsing a URL.
  const url = req.url ?? "/"
  const q = url.indexOf("?")
  if (url.startsWith("/v1/") && !/[.%\\]/.test(q < 0 ? url : url.slice(0, q))) return false
  const { path } = pathAndQuery(url)
  if (path === "/ui" || path.startsWith("/ui/")) return true
  return path === "/" && req.method === "GET" && /\btext\/html\b/.test(String(req.headers.accept ?? ""))
}

/** A datetime-local value (no zone) is read as UTC, as the page says; a full ISO 8601 instant as is. */
export const instantOf = (raw: string | null): string | null => {
  if (raw === null || raw.trim() === "") return null
  const s = raw.trim()
  const zoned = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(s)
  const local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(s)
  if (!zoned && !local) throw new HttpError(400, `"at" must be a date and time such as 2026-11-30T09:00:00Z, not ${JSON.stringify(s.slice(0, 40))}.`)
  const t = Date.parse(zoned ? s : `${s}Z`)
  if (Number.isNaN(t)) throw new HttpError(400, `"at" is not a valid date: ${JSON.stringify(s.slice(0, 40))}.`)
  return new Date(t).toISOString()
}

const readForm = (req: IncomingMessage, limit = 8192): Promise<URLSearchParams> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (c: Buffer) => {
      size += c.length
      if (size > limit) { reject(new HttpError(413, "The form is too large.")); req.destroy(); return }
      chunks.push(c)
    })
    req.on("end", () => resolve(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))))
    req.on("error", () => reject(new HttpError(400, "The form could not be read.")))
  })

/** A form post must come from our own pages: no other site may sign a browser in or out. */
const sameOrigin = (req: IncomingMessage): boolean => {
  const site = req.headers["sec-fetch-site"]
  if (site !== undefined) return site === "same-origin" || site === "none"
  const origin = req.headers.origin
  return origin === undefined || origin === `http://${req.headers.host}`
}

const allNodes = async (service: Service): Promise<ReadonlyArray<NodeView>> => {
  const out: Array<NodeView> = []
  for (;;) {
    const marker = out[out.length - 1]?.uuid
    const page = await run(service.list({}, { limit: maxLimit, ...(marker === undefined ? {} : { marker }) }))
    out.push(...page)
    if (page.length < maxLimit) return out
  }
}

const rowOf = (n: NodeView): FleetRow => ({
  uuid: n.uuid, name: n.name, provisionState: n.provisionState, powerState: n.powerState, maintenance: n.maintenance,
  instanceUuid: n.instanceUuid, macs: n.ports.map((p) => p.address), lastError: n.lastError,
})

const fleetRows = async (service: Service, moment: Moment): Promise<ReadonlyArray<FleetRow>> => {
  const now = await allNodes(service)
  if (moment.at === null) return now.map(rowOf)
  // The past fleet has no ports; MACs are today's, for searching.
  const macs = new Map(now.map((n) => [n.uuid, n.ports.map((p) => p.address)]))
  const then = await run(service.fleetAt(moment.at))
  return then.nodes.map((n) => ({ ...n, macs: macs.get(n.uuid) ?? [] }))
}

const nodeAndHistory = async (service: Service, ref: string, moment: Moment) => {
  const node = moment.at === null ? await run(service.get(ref)) : await run(service.stateAt(ref, moment.at))
  const after = node.revision - timelineLength
  const entries: ReadonlyArray<HistoryEntry> = await run(service.history(node.uuid, {
    limit: timelineLength, ...(after >= 0 ? { afterRevision: after } : {}),
    ...(moment.at === null ? {} : { filter: { until: moment.at } }),
  }))
  return { node, entries, truncated: after >= 0 }
}

export const createUi = (options: UiOptions) => {
  const sessions = options.sessions ?? new Sessions()

  /** The viewer, or null when this request carries no valid token or session. */
  const viewerOf = (req: IncomingMessage): Viewer | null => {
    if (options.auth.mode === "noauth") return { actor: "user:noauth", signedIn: false, mayWrite: true }
    const header = req.headers["x-auth-token"]
    const fromHeader = Array.isArray(header) ? header[0] : header
    const token = fromHeader ?? sessions.tokenOf(req.headers.cookie)
    if (token === undefined) return null
    try {
      const actor = authorize(options.auth, "read", "GET", token)
      // A reader's token reads: typing into a console is a write, as in the API.
      const mayWrite = (() => { try { authorize(options.auth, "read", "POST", token); return true } catch { return false } })()
      return { actor, signedIn: fromHeader === undefined, mayWrite }
    } catch {
      return null
    }
  }

  const signIn = async (req: IncomingMessage): Promise<Reply> => {
    if (!sameOrigin(req)) return page(403, signInPage("Sign-in must come from this service's own page."))
    const token = (await readForm(req)).get("token") ?? ""
    if (options.auth.mode === "noauth") return redirect("/ui")
    try {
      authorize(options.auth, "read", "GET", token)
    } catch {
      return page(401, signInPage("That token is not valid."))
    }
    return redirect("/ui", { "Set-Cookie": setCookie(sessions.open(token)) })
  }

  const answer = async (req: IncomingMessage): Promise<Reply> => {
    const { path, query } = pathAndQuery(req.url ?? "/")
    const method = req.method ?? "GET"
    if (path === "/") return redirect("/ui")
    const assetName = /^\/ui\/assets\/([a-z.]+)$/.exec(path)?.[1]
    if (assetName !== undefined) {
      const a = assets[assetName]
      if (a === undefined || method !== "GET") return page(404, errorPage(null, 404, "No such file."))
      return { status: 200, text: a.text, headers: { "Content-Type": a.type, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" } }
    }
    if (path === "/ui/login") {
      if (method === "POST") return signIn(req)
      return viewerOf(req) !== null && options.auth.mode !== "noauth" ? redirect("/ui") : page(200, signInPage(null))
    }
    if (path === "/ui/logout" && method === "POST") {
      if (!sameOrigin(req)) return page(403, errorPage(null, 403, "Sign-out must come from this service's own page."))
      sessions.close(req.headers.cookie)
      return redirect("/ui/login", { "Set-Cookie": clearCookie })
    }
    if (method !== "GET") return page(405, errorPage(null, 405, "The web view is read-only."), { Allow: "GET" })
    const viewer = viewerOf(req)
    const fragment = path.startsWith("/ui/live/")
    if (viewer === null) {
      return fragment ? { status: 401, text: "sign in", headers: { "Content-Type": "text/plain" } } : page(401, signInPage(null))
    }
    const service = await options.service
    try {
      const moment: Moment = { at: instantOf(query.get("at")) }
      const fleetQuery = { q: (query.get("q") ?? "").slice(0, 200), state: query.get("state") || null }
      if (path === "/ui") return page(200, fleetPage(viewer, await fleetRows(service, moment), fleetQuery, moment))
      if (path === "/ui/live/fleet") return page(200, fleetBody(await fleetRows(service, moment), fleetQuery, moment))
      const nodeRef = /^\/ui\/(?:live\/)?nodes\/([^/]+)$/.exec(path)?.[1]
      if (nodeRef !== undefined) {
        const ref = decodeURIComponent(nodeRef)
        if (fragment) {
          const node = await run(service.get(ref))
          if (query.get("rev") === String(node.revision)) return { status: 204, headers: { "Cache-Control": "no-store" } }
          const { entries, truncated } = await nodeAndHistory(service, node.uuid, moment)
          return page(200, nodeLive(node, nodeDocument(node, "", maxVersion), entries, truncated), { "X-Revision": String(node.revision) })
        }
        const { node, entries, truncated } = await nodeAndHistory(service, ref, moment)
        const doc = nodeDocument(node, "", maxVersion)
        return page(200, nodePage(viewer, node, doc, entries, truncated, moment, options.nodeExtras?.(node, viewer)))
      }
      return page(404, errorPage(viewer, 404, "There is no such page."))
    } catch (e) {
      if (e instanceof HttpError) return page(e.status, errorPage(viewer, e.status, e.message))
      throw e
    }
  }

  return { wants: wantsUi, answer, sessions, viewerOf }
}
