// The web view's building blocks: escaping by construction, the past-instant parameter, search,
// and browser sessions (expiry, sign-out).
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { escapeHtml, html } from "../../../src/adapters/http/ui/html.ts"
import { instantOf } from "../../../src/adapters/http/ui/handler.ts"
import { matches, timeline } from "../../../src/adapters/http/ui/pages.ts"
import { Sessions, sessionCookie } from "../../../src/adapters/http/ui/sessions.ts"

test("any interpolated string comes out with no markup character left", () => {
  fc.assert(fc.property(fc.string(), (s) => {
    const out = html`<p title="${s}">${s}</p>`.text
    const inner = out.slice(out.indexOf(">") + 1, out.lastIndexOf("<"))
    assert.ok(!/[<>"'`]/.test(inner), inner)
    assert.equal(inner, escapeHtml(s))
  }))
  assert.equal(html`${"<img src=x onerror=alert(1)>"}`.text, "&lt;img src=x onerror=alert(1)&gt;")
  // A fragment is not escaped twice; an array of fragments is joined.
  assert.equal(html`<b>${html`<i>${"&"}</i>`}</b>${[html`<br>`, "<"]}`.text, "<b><i>&amp;</i></b><br>&lt;")
})

test("a timeline escapes what events say and highlights failures", () => {
  const entry = (revision: number, event: string, summary: string, severity: "info" | "error") => ({
    revision, position: revision, event, occurredAt: `2026-11-30T09:00:0${revision}.000Z`, actor: "user:<b>", correlationId: "op-1",
    causationId: null, summary, severity, provisionState: "deploy failed" as const, durationMs: 1500, data: {}, instanceUuid: null,
  })
  const out = timeline([entry(1, "DeployRequested", "deploy of <x> requested", "info"), entry(2, "DeployFailed", "deploy failed: <script>", "error")], false).text
  assert.ok(!out.includes("<script>") && !out.includes("<x>") && !out.includes("user:<b>"))
  assert.match(out, /class="step failed" data-type="DeployFailed"/)
  assert.match(out, /1\.50 s/)
})

test("the at parameter: a zone-less value is UTC, a zoned one kept, nonsense refused", () => {
  assert.equal(instantOf("2026-11-30T09:10"), "2026-11-30T09:10:00.000Z")
  assert.equal(instantOf("2026-11-30T10:10:05+01:00"), "2026-11-30T09:10:05.000Z")
  assert.equal(instantOf(""), null)
  assert.equal(instantOf(null), null)
  assert.throws(() => instantOf("yesterday"), /"at" must be a date/)
  assert.throws(() => instantOf("2026-13-45T99:99"), /not a valid date|must be/)
})

test("search matches name, uuid, MAC and instance, ignoring case", () => {
  const row = { uuid: "6f1c2a3e-0000-4000-8000-00000000fa01", name: "rack1-node7", provisionState: "active", powerState: null, maintenance: false,
    instanceUuid: "AAAA0000-1111-2222-3333-444455556666", macs: ["52:54:00:0e:00:01"] }
  for (const q of ["NODE7", "6f1c2a3e", "52:54:00:0E", "aaaa0000", " "]) assert.ok(matches(row, q), q)
  assert.ok(!matches(row, "node8"))
})

test("sessions: a cookie maps to its token until it expires or is closed", () => {
  let now = 1_000
  const sessions = new Sessions(() => now)
  const id = sessions.open("token-0000000000000001")
  const cookie = `other=1; ${sessionCookie}=${id}`
  assert.equal(sessions.tokenOf(cookie), "token-0000000000000001")
  assert.equal(sessions.tokenOf(`${sessionCookie}=forged`), undefined)
  assert.equal(sessions.tokenOf(undefined), undefined)
  sessions.close(cookie)
  assert.equal(sessions.tokenOf(cookie), undefined)
  const later = sessions.open("token-0000000000000002")
  now += 12 * 60 * 60 * 1000
  assert.equal(sessions.tokenOf(`${sessionCookie}=${later}`), undefined)
})
