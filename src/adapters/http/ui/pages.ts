// The web view's pages, rendered on the server from the same views the API serves. Pure functions
// from data to Html: every value from a node (names, reasons, errors, extra fields) goes through
// the escaping template, never into markup or script.
import type { FleetNodeAt } from "../../../application/fleet-at.ts"
import type { HistoryEntry, NodeView } from "../../../application/node-service.ts"
import { html, queryOf, type Html } from "./html.ts"

export interface Viewer {
  /** "user:ops", or "user:noauth" when the service runs without tokens. */
  readonly actor: string
  readonly signedIn: boolean
  /** May type into a node's console from the web view (an admin token, or no auth; ADR 0146). */
  readonly mayWrite?: boolean
}

/** Where the operator is looking: now, or a past instant. */
export interface Moment {
  /** ISO 8601, or null for now (live). */
  readonly at: string | null
}

const stateClass = (state: string | null): string => {
  if (state === null) return "s-none"
  if (/fail|error/.test(state)) return "s-failed"
  if (/wait|ing$/.test(state)) return "s-busy"
  if (state === "active") return "s-active"
  if (state === "available") return "s-available"
  return "s-other"
}

export const stateBadge = (state: string | null): Html =>
  html`<span class="badge ${stateClass(state)}">${state ?? "none"}</span>`

const powerBadge = (power: string | null): Html =>
  html`<span class="power ${power === "power on" ? "on" : power === "power off" ? "off" : "unknown"}">${power ?? "unknown"}</span>`

/** "2026-11-30 09:12:03.125 UTC": an operator reads log times in UTC, as the API gives them. */
export const timeOf = (iso: string): string => iso.replace("T", " ").replace(/Z$/, " UTC")

export const durationOf = (ms: number | null): string => {
  if (ms === null) return ""
  if (ms < 1000) return `${ms} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
  const m = Math.floor(ms / 60_000)
  if (m < 60) return `${m} min ${Math.round((ms % 60_000) / 1000)} s`
  return `${Math.floor(m / 60)} h ${m % 60} min`
}

/** The value a datetime-local input shows for an instant (UTC, to the second). */
const inputValueOf = (iso: string | null) => (iso === null ? "" : iso.slice(0, 19))

export const layout = (title: string, viewer: Viewer | null, body: Html, moment: Moment = { at: null }): Html => html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ironledger</title>
<link rel="stylesheet" href="/ui/assets/app.css">
<script src="/ui/assets/app.js" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="/ui">ironledger</a>
  <nav><a href="/ui">Fleet</a></nav>
  ${moment.at === null ? "" : html`<span class="past">Viewing the past: ${timeOf(moment.at)}</span>`}
  <span class="spacer"></span>
  ${viewer === null ? "" : html`<span class="who">${viewer.actor.replace(/^user:/, "")}</span>`}
  ${viewer?.signedIn === true ? html`<form method="post" action="/ui/logout" class="inline"><button type="submit">Sign out</button></form>` : ""}
</header>
<main>
${body}
</main>
</body>
</html>`

export const signInPage = (message: string | null): Html => layout("Sign in", null, html`
<section class="signin">
  <h1>Sign in</h1>
  <p>Paste an API token (from the service's token file). It is exchanged for a session cookie; it never appears in a URL.</p>
  ${message === null ? "" : html`<p class="error" role="alert">${message}</p>`}
  <form method="post" action="/ui/login">
    <label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
    <button type="submit">Sign in</button>
  </form>
</section>`)

export const errorPage = (viewer: Viewer | null, status: number, message: string): Html => layout(`Error ${status}`, viewer, html`
<section class="notice"><h1>${status}</h1><p class="error">${message}</p><p><a href="/ui">Back to the fleet</a></p></section>`)

/** One row of the fleet table: what the live list and a past instant both know. */
export interface FleetRow extends FleetNodeAt {
  readonly macs: ReadonlyArray<string>
  readonly lastError?: string | null
}

export interface FleetQuery {
  readonly q: string
  readonly state: string | null
}

/** Case-insensitive substring of name, uuid, any MAC or the instance uuid. */
export const matches = (row: FleetRow, q: string): boolean => {
  const needle = q.trim().toLowerCase()
  if (needle === "") return true
  return [row.name ?? "", row.uuid, row.instanceUuid ?? "", ...row.macs].some((v) => v.toLowerCase().includes(needle))
}

const countsOf = (rows: ReadonlyArray<FleetRow>): ReadonlyArray<[string, number]> => {
  const counts = new Map<string, number>()
  for (const r of rows) counts.set(r.provisionState, (counts.get(r.provisionState) ?? 0) + 1)
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
}

const nodeLink = (uuid: string, moment: Moment) => `/ui/nodes/${encodeURIComponent(uuid)}${queryOf({ at: moment.at })}`

/** The part of the fleet page that live updates replace. */
export const fleetBody = (rows: ReadonlyArray<FleetRow>, query: FleetQuery, moment: Moment): Html => {
  const found = rows.filter((r) => matches(r, query.q))
  const shown = found.filter((r) => query.state === null || r.provisionState === query.state)
  const link = (state: string | null) => `/ui${queryOf({ q: query.q, state, at: moment.at })}`
  return html`
<div class="counts" aria-label="Nodes by provision state">
  <a class="count ${query.state === null ? "selected" : ""}" href="${link(null)}"><span class="n">${found.length}</span><span class="label">all nodes</span></a>
  ${countsOf(found).map(([state, n]) => html`<a class="count ${stateClass(state)} ${query.state === state ? "selected" : ""}" href="${link(state)}" data-state="${state}"><span class="n">${n}</span><span class="label">${state}</span></a>`)}
</div>
${shown.length === 0
  ? html`<p class="empty">${rows.length === 0 ? "No nodes enrolled." : query.q === "" ? "No node in this state." : html`No node matches “${query.q}”.`}</p>`
  : html`<table class="fleet">
  <thead><tr><th>Name</th><th>Provision state</th><th>Power</th><th>Maintenance</th><th>Instance</th><th>MACs</th></tr></thead>
  <tbody>
  ${shown.map((r) => html`<tr data-node="${r.uuid}">
    <td><a href="${nodeLink(r.uuid, moment)}">${r.name ?? r.uuid}</a>${r.name === null ? "" : html`<div class="sub mono">${r.uuid}</div>`}</td>
    <td>${stateBadge(r.provisionState)}${r.lastError ? html`<div class="sub error" title="${r.lastError}">${r.lastError.slice(0, 120)}</div>` : ""}</td>
    <td>${powerBadge(r.powerState)}</td>
    <td>${r.maintenance ? html`<span class="maint">maintenance</span>` : ""}</td>
    <td class="mono">${r.instanceUuid ?? ""}</td>
    <td class="mono">${r.macs.join(" ")}</td>
  </tr>`)}
  </tbody>
</table>`}`
}

const atForm = (action: string, moment: Moment, hidden: Record<string, string>): Html => html`
<form class="at" method="get" action="${action}">
  ${Object.entries(hidden).filter(([, v]) => v !== "").map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
  <label>As it was at <input type="datetime-local" name="at" step="1" value="${inputValueOf(moment.at)}"> UTC</label>
  <button type="submit">Show</button>
  ${moment.at === null ? html`<span class="live-dot" title="Updates live">live</span>` : html`<a href="${action}${queryOf(hidden)}">Back to now</a>`}
</form>`

export const fleetPage = (viewer: Viewer, rows: ReadonlyArray<FleetRow>, query: FleetQuery, moment: Moment): Html => layout("Fleet", viewer, html`
<section class="toolbar">
  <h1>Fleet</h1>
  <form class="search" method="get" action="/ui" role="search">
    ${moment.at === null ? "" : html`<input type="hidden" name="at" value="${moment.at}">`}
    <input type="search" name="q" value="${query.q}" placeholder="Name, MAC or instance UUID" aria-label="Search nodes">
    <button type="submit">Search</button>
  </form>
  ${atForm("/ui", moment, { q: query.q, state: query.state ?? "" })}
</section>
<section id="live" ${moment.at === null ? html`data-live="/ui/live/fleet${queryOf({ q: query.q, state: query.state })}"` : ""}>
${fleetBody(rows, query, moment)}
</section>`, moment)

/** Consecutive entries of one operation (same correlation id), as one block of the timeline. */
interface Operation {
  readonly correlationId: string
  readonly entries: ReadonlyArray<HistoryEntry>
}

export const operationsOf = (entries: ReadonlyArray<HistoryEntry>): ReadonlyArray<Operation> => {
  const ops: Array<{ correlationId: string; entries: Array<HistoryEntry> }> = []
  for (const e of entries) {
    const last = ops[ops.length - 1]
    if (last !== undefined && last.correlationId === e.correlationId) last.entries.push(e)
    else ops.push({ correlationId: e.correlationId, entries: [e] })
  }
  return ops
}

/** The first event of an operation shows no duration: the time since the previous operation is no step's. */
const stepRow = (e: HistoryEntry, i: number): Html => html`<li class="step ${e.severity === "error" ? "failed" : ""}" data-type="${e.event}" data-revision="${e.revision}">
  <span class="dot" aria-hidden="true"></span>
  <time datetime="${e.occurredAt}">${e.occurredAt.slice(11, 23)}</time>
  <span class="what">${e.severity === "error" ? html`<strong class="fail-tag">failed</strong> ` : ""}${e.summary}</span>
  <span class="type">${e.event}</span>
  <span class="actor">${e.actor}</span>
  <span class="dur" title="time this step took">${i === 0 ? "" : durationOf(e.durationMs)}</span>
  <span class="after">${stateBadge(e.provisionState)}</span>
</li>`

export const timeline = (entries: ReadonlyArray<HistoryEntry>, truncated: boolean): Html => {
  if (entries.length === 0) return html`<p class="empty">No history.</p>`
  const ops = operationsOf(entries).slice().reverse()
  return html`${truncated ? html`<p class="sub">Showing the latest ${entries.length} events; the API's /history has them all.</p>` : ""}
<ol class="timeline">
${ops.map((op) => {
  const first = op.entries[0]!
  const last = op.entries[op.entries.length - 1]!
  const failed = op.entries.some((e) => e.severity === "error")
  const span = Date.parse(last.occurredAt) - Date.parse(first.occurredAt)
  return html`<li class="op ${failed ? "failed" : ""}">
  <div class="op-head"><span class="op-title">${first.summary}</span><span class="op-meta">${timeOf(first.occurredAt)} · ${op.entries.length} ${op.entries.length === 1 ? "event" : "events"}${op.entries.length > 1 ? html` · <strong>${durationOf(span)}</strong>` : ""} · ${first.actor}</span></div>
  <ol class="steps">${op.entries.map(stepRow)}</ol>
</li>`
})}
</ol>`
}

const fieldValue = (v: unknown): Html => {
  if (v === null || v === undefined) return html`<span class="null">null</span>`
  if (typeof v === "object") {
    if (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0) return html`<span class="null">${Array.isArray(v) ? "[]" : "{}"}</span>`
    return html`<pre>${JSON.stringify(v, null, 2)}</pre>`
  }
  return html`${String(v)}`
}

const isLinks = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((l) => typeof l === "object" && l !== null && "rel" in l && "href" in l)

/** The part of the node page that live updates replace: state, last error, timeline, ports and fields. */
export const nodeLive = (node: NodeView, document: Record<string, unknown>, entries: ReadonlyArray<HistoryEntry>, truncated: boolean): Html => html`
<div class="summary" data-revision="${node.revision}">
  <div><span class="k">Provision state</span>${stateBadge(node.provisionState)}${node.targetProvisionState === null ? "" : html` <span class="arrow">→</span> ${stateBadge(node.targetProvisionState)}`}</div>
  <div><span class="k">Power</span>${powerBadge(node.powerState)}</div>
  <div><span class="k">Maintenance</span>${node.maintenance ? html`<span class="maint">on${node.maintenanceReason === null ? "" : html`: ${node.maintenanceReason}`}</span>` : "off"}</div>
  <div><span class="k">Instance</span><span class="mono">${node.instanceUuid ?? "none"}</span></div>
  <div><span class="k">Driver</span>${node.driver}</div>
  <div><span class="k">Updated</span>${timeOf(node.updatedAt)}</div>
  ${node.deployProgress === null ? "" : html`<div><span class="k">Image written</span><progress max="${node.deployProgress.totalBytes}" value="${node.deployProgress.bytesWritten}"></progress></div>`}
</div>
${node.lastError === null ? "" : html`<p class="last-error" role="alert"><strong>Last error:</strong> ${node.lastError}</p>`}
<h2>History</h2>
${timeline(entries, truncated)}
<section class="cols">
  <div>
    <h2>Ports</h2>
    ${node.ports.length === 0 ? html`<p class="empty">No ports.</p>` : html`<table class="ports"><thead><tr><th>MAC</th><th>UUID</th></tr></thead><tbody>
    ${node.ports.map((p) => html`<tr><td class="mono">${p.address}</td><td class="mono">${p.uuid}</td></tr>`)}
    </tbody></table>`}
  </div>
  <div>
    <h2>Fields</h2>
    <table class="fields"><tbody>
    ${Object.entries(document).filter(([, v]) => !isLinks(v)).map(([k, v]) => html`<tr><th>${k}</th><td>${fieldValue(v)}</td></tr>`)}
    </tbody></table>
  </div>
</section>`

export const nodePage = (
  viewer: Viewer, node: NodeView, document: Record<string, unknown>, entries: ReadonlyArray<HistoryEntry>,
  truncated: boolean, moment: Moment, extra: Html = html``,
): Html => {
  const self = `/ui/nodes/${encodeURIComponent(node.uuid)}`
  return layout(node.name ?? node.uuid, viewer, html`
<p class="crumbs"><a href="/ui${queryOf({ at: moment.at })}">Fleet</a> / ${node.name ?? node.uuid}</p>
<section class="toolbar">
  <h1>${node.name ?? node.uuid} <span class="sub mono">${node.uuid}</span></h1>
  ${atForm(self, moment, {})}
</section>
${extra}
<section id="live" ${moment.at === null ? html`data-live="/ui/live/nodes/${encodeURIComponent(node.uuid)}"` : ""}>
${nodeLive(node, document, entries, truncated)}
</section>`, moment)
}
