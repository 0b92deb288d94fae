// The web fleet view in Debian's real headless Chromium (driven by playwright-core, which brings no
// browser of its own): an unauthenticated page is refused, sign-in sets an HttpOnly SameSite cookie
// and no token ever reaches a URL, search finds a node by MAC, a deploy's steps appear on an open
// node page without a reload, failures are highlighted, the page shows a past instant, and a
// user-controlled `<img src=x onerror=alert(1)>` renders as text and runs nothing; the console pane
// shows the node's serial console, and what an admin types in it reaches the serial line.
// Screenshots are kept under test-artifacts/web-view/ (gitignored).
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { chromium, type BrowserContext, type Page } from "playwright-core"
import { simulatedHardware } from "../../src/cli/hardware.ts"
import { client, settleNode, startTestService, type TestService } from "../adapters/http-harness.ts"

const chromiumPath = "/usr/bin/chromium"
const artifacts = resolve(import.meta.dirname, "../../test-artifacts/web-view")
const adminToken = "web-admin-token-000000001"
const readerToken = "web-reader-token-00000001"
const payload = "<img src=x onerror=alert(1)>"

let svc: TestService
let api: ReturnType<typeof client>
let context: BrowserContext
let page: Page
let profile: string
const dialogs: Array<string> = []
const pageErrors: Array<string> = []

const shot = (name: string, fullPage = false) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage })

before(async () => {
  mkdirSync(artifacts, { recursive: true })
  // The simulated ramdisk takes 3 s to call back, so the open page sees the deploy wait for it.
  svc = await startTestService({
    hardware: simulatedHardware({ callbackDelayMs: 3000 }), notary: false,
    auth: { mode: "token", tokens: [{ user: "ops", role: "admin", token: adminToken }, { user: "viewer", role: "reader", token: readerToken }] },
    conductor: { automatedClean: false },
  })
  api = client(svc.url, { "X-OpenStack-Ironic-API-Version": "1.78", "X-Auth-Token": adminToken })
  profile = mkdtempSync(join(tmpdir(), "ironledger-chromium-"))
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath, headless: true, viewport: { width: 1360, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  })
  page = context.pages()[0] ?? await context.newPage()
  page.on("dialog", (d) => { dialogs.push(d.message()); void d.dismiss() })
  page.on("pageerror", (e) => { pageErrors.push(e.message) })
})

after(async () => {
  await context?.close()
  await svc?.close()
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true })
})

const enroll = async (name: string, mac: string, extra: Record<string, unknown> = {}) => {
  const created = await api("POST", "/v1/nodes", { driver: "sim", name, extra })
  assert.equal(created.status, 201, created.text)
  assert.equal((await api("POST", "/v1/ports", { address: mac, node_uuid: created.body.uuid })).status, 201)
  for (const [target, state] of [["manage", "manageable"], ["provide", "available"]] as const) {
    assert.equal((await api("PUT", `/v1/nodes/${name}/states/provision`, { target })).status, 202)
    await settleNode(api, name, state)
  }
  return created.body.uuid as string
}

test("the web view in headless Chromium: sign-in, search, live deploy, failures, past instant, escaping", { timeout: 180_000 }, async (t) => {
  if (!existsSync(chromiumPath)) return t.skip("Debian's chromium is not installed (scripts/ensure-deps.sh installs it)")
  const deployedUuid = await enroll("web-1", "52:54:00:0e:00:01")
  await enroll("web-2", "52:54:00:0e:00:02")
  const markedUuid = await enroll("marked", "52:54:00:0e:00:03", { note: payload })
  assert.equal((await api("PUT", "/v1/nodes/marked/maintenance", { reason: payload })).status, 202)
  // Ironic's node names cannot hold markup; the API refuses such a name before any page could show it.
  assert.equal((await api("POST", "/v1/nodes", { driver: "sim", name: payload })).status, 400)
  const beforeDeploy = new Date().toISOString()
  await new Promise((r) => setTimeout(r, 20))

  // Unauthenticated: refused, with the sign-in form, also at / for a browser.
  const refused = await page.goto(`${svc.url}/ui/nodes/web-1`)
  assert.equal(refused?.status(), 401)
  assert.equal(await page.locator("text=web-1").count(), 0, "a refused page shows no node")
  const root = await page.goto(`${svc.url}/`)
  assert.equal(new URL(page.url()).pathname, "/ui")
  assert.equal(root?.status(), 401)
  await shot("01-sign-in")
  await page.fill("input[name=token]", "not-a-valid-token-0000")
  await page.click("button[type=submit]")
  assert.match(await page.locator("[role=alert]").innerText(), /not valid/)

  // Sign in: a session cookie, HttpOnly and SameSite=Strict; no token in any URL.
  const urls: Array<string> = []
  page.on("request", (r) => { urls.push(r.url()) })
  await page.fill("input[name=token]", readerToken)
  await Promise.all([page.waitForURL(`${svc.url}/ui`), page.click("button[type=submit]")])
  const cookies = await context.cookies(svc.url + "/ui")
  const session = cookies.find((c) => c.name === "ironledger_session")
  assert.ok(session !== undefined, JSON.stringify(cookies))
  assert.equal(session.httpOnly, true)
  assert.equal(session.sameSite, "Strict")
  assert.equal(await page.evaluate("document.cookie"), "", "the session cookie is out of scripts' reach")
  assert.equal((await page.evaluate(async () => (await fetch("/v1/nodes")).status)), 401, "the API does not take the cookie")
  assert.ok(await page.locator(".who", { hasText: "viewer" }).isVisible())
  assert.equal(await page.locator(".count[data-state=available] .n").innerText(), "3")
  await shot("02-fleet")

  // Search by MAC.
  await page.fill("form.search input[name=q]", "52:54:00:0e:00:02")
  await Promise.all([page.waitForURL(/q=/), page.click("form.search button")])
  assert.deepEqual(await page.locator("table.fleet tbody tr td:first-child a").allInnerTexts(), ["web-2"])

  // The payload in a search, an extra field and a maintenance reason is text; nothing runs.
  await page.goto(`${svc.url}/ui?q=${encodeURIComponent(payload)}`)
  assert.equal(await page.locator("form.search input[name=q]").inputValue(), payload)
  assert.ok((await page.locator(".empty").innerText()).includes(payload))
  await page.goto(`${svc.url}/ui/nodes/${markedUuid}`)
  assert.ok((await page.locator(".summary .maint").innerText()).includes(payload))
  assert.ok((await page.locator("table.fields").innerText()).includes(payload))
  assert.equal(await page.locator("img").count(), 0, "no img element was created from the payload")
  await shot("03-escaped")

  // Live: the node page is open while the deploy runs; its steps appear without a reload.
  await page.goto(`${svc.url}/ui/nodes/web-1`)
  await page.evaluate("window.stillHere = true")
  assert.equal(await page.locator("li.step[data-type=DeployRequested]").count(), 0)
  assert.equal((await api("PUT", "/v1/nodes/web-1/states/provision", { target: "active" })).status, 202)
  await page.locator("li.step[data-type=CallbackAwaited]").waitFor({ timeout: 15_000 })
  assert.equal(await page.locator(".summary .badge.s-busy").first().innerText(), "wait call-back")
  await shot("04-deploy-waiting")
  await page.locator("li.step[data-type=DeployDone]").waitFor({ timeout: 30_000 })
  assert.equal(await page.evaluate("window.stillHere"), true, "updated in place, not reloaded")
  assert.equal(await page.locator(".summary .badge").first().innerText(), "active")
  assert.match(await page.locator("li.step[data-type=DeployDone] .dur").innerText(), /\d+(\.\d+)? (ms|s)$/)
  await shot("05-deployed")
  await shot("05-deployed-full", true)

  // A failed deploy is highlighted.
  assert.equal((await api("PATCH", "/v1/nodes/web-2", [{ op: "add", path: "/instance_info/image_source", value: "/nonexistent/image.qcow2" }])).status, 200)
  await page.goto(`${svc.url}/ui/nodes/web-2`)
  assert.equal((await api("PUT", "/v1/nodes/web-2/states/provision", { target: "active" })).status, 202)
  await page.locator("li.step.failed").first().waitFor({ timeout: 30_000 })
  await page.locator(".last-error").waitFor({ timeout: 10_000 })
  assert.ok(await page.locator("li.op.failed").count() >= 1)
  await shot("06-deploy-failed")

  // A past instant: the fleet and the node as they were before the deploys.
  await page.goto(`${svc.url}/ui?at=${encodeURIComponent(beforeDeploy)}`)
  assert.equal(await page.locator(".count[data-state=available] .n").innerText(), "3")
  assert.equal(await page.locator(".count[data-state=active]").count(), 0)
  await page.goto(`${svc.url}/ui/nodes/${deployedUuid}?at=${encodeURIComponent(beforeDeploy)}`)
  assert.equal(await page.locator(".summary .badge").first().innerText(), "available")
  assert.equal(await page.locator("li.step[data-type=DeployRequested]").count(), 0)
  await page.goto(`${svc.url}/ui`)
  assert.equal(await page.locator(".count[data-state=active] .n").innerText(), "1")
  await shot("07-fleet-after")

  // The console pane: the node's serial console, watched read-only through the WebSocket.
  assert.equal((await api("PUT", "/v1/nodes/web-1/states/console", { enabled: true })).status, 202)
  await page.goto(`${svc.url}/ui/nodes/web-1`)
  await page.locator("pre.console", { hasText: "web-1 login:" }).waitFor({ timeout: 15_000 })
  assert.equal(await page.locator(".console-state").innerText(), "connected")
  await shot("08-console")
  assert.equal(await page.locator("button.console-take").count(), 0, "a reader's pane is read-only")

  // Sign out ends the session.
  await Promise.all([page.waitForURL(/\/ui\/login$/), page.click("header form button")])
  assert.equal((await page.goto(`${svc.url}/ui`))?.status(), 401)

  // An admin may take the console (ADR 0146): the keys typed in the pane reach the serial line.
  await page.fill("input[name=token]", adminToken)
  await Promise.all([page.waitForURL(`${svc.url}/ui`), page.click("button[type=submit]")])
  await page.goto(`${svc.url}/ui/nodes/web-1`)
  await page.locator(".console-state", { hasText: "connected" }).waitFor({ timeout: 15_000 })
  await page.click("button.console-take")
  await page.locator(".console-state", { hasText: "connected, typing" }).waitFor({ timeout: 15_000 })
  await page.keyboard.type("ops")
  await page.keyboard.press("Enter")
  await page.locator("pre.console", { hasText: /ops\s*Login incorrect/ }).waitFor({ timeout: 15_000 })
  await shot("09-console-typed")
  await Promise.all([page.waitForURL(/\/ui\/login$/), page.click("header form button")])

  assert.ok(urls.every((u) => !u.includes(readerToken) && !u.includes(adminToken)), "no token in a URL")
  assert.deepEqual(dialogs, [], "no script ran from user data")
  assert.deepEqual(pageErrors, [])
})
