// The node console through the API (baremetal node console enable/show/disable): console_info's
// tcp:// URL reads and writes a simulated machine's serial line, one writer at a time; the web
// view's WebSocket watches behind the same sign-in; every switch and connection is in the node's
// history with its actor.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { connect, type Socket } from "node:net"
import WebSocket from "ws"
import { simulatedHardware } from "../../src/cli/hardware.ts"
import { client, messageOf, startTestService, type TestService } from "./http-harness.ts"

const adminToken = "console-admin-token-0001"
const readerToken = "console-reader-token-001"
let svc: TestService
let api: ReturnType<typeof client>
let reader: ReturnType<typeof client>

before(async () => {
  svc = await startTestService({
    hardware: simulatedHardware(), notary: false,
    auth: { mode: "token", tokens: [{ user: "ops", role: "admin", token: adminToken }, { user: "viewer", role: "reader", token: readerToken }] },
  })
  api = client(svc.url, { "X-OpenStack-Ironic-API-Version": "1.78", "X-Auth-Token": adminToken })
  reader = client(svc.url, { "X-OpenStack-Ironic-API-Version": "1.78", "X-Auth-Token": readerToken })
})
after(async () => { await svc?.close() })

/** A TCP client of console_info's URL that keeps everything it read. */
const tcpClient = async (url: string) => {
  const { hostname, port } = new URL(url.replace(/^tcp:/, "http:"))
  const socket: Socket = connect(Number(port), hostname)
  let text = ""
  let closed = false
  socket.on("data", (c: Buffer) => { text += c.toString("latin1") })
  socket.on("close", () => { closed = true })
  socket.on("error", () => {})
  await new Promise((r) => socket.once("connect", r))
  return {
    socket,
    read: () => text,
    closed: () => closed,
    until: async (pattern: RegExp, ms = 10_000) => {
      const end = Date.now() + ms
      while (!pattern.test(text)) {
        if (Date.now() > end) assert.fail(`never saw ${pattern} on the console; got ${JSON.stringify(text)}`)
        await new Promise((r) => setTimeout(r, 20))
      }
      return text
    },
  }
}

const eventually = async (check: () => Promise<boolean> | boolean, what: string, ms = 10_000) => {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) assert.fail(what)
    await new Promise((r) => setTimeout(r, 25))
  }
}

test("console enable, show, a TCP writer, a WebSocket watcher, disable: all in the history", { timeout: 60_000 }, async () => {
  const node = (await api("POST", "/v1/nodes", { driver: "sim", name: "con-1" })).body
  assert.deepEqual((await api("GET", "/v1/nodes/con-1/states/console")).body, { console_enabled: false, console_info: null })
  assert.equal((await reader("PUT", "/v1/nodes/con-1/states/console", { enabled: true })).status, 403)
  assert.equal((await api("PUT", "/v1/nodes/con-1/states/console", { enabled: "yes" })).status, 400)
  assert.equal((await api("PUT", "/v1/nodes/con-1/states/console", { enabled: true })).status, 202)
  const shown = (await reader("GET", "/v1/nodes/con-1/states/console")).body
  assert.equal(shown.console_enabled, true)
  assert.equal(shown.console_info.type, "socat")
  assert.match(shown.console_info.url, /^tcp:\/\/127\.0\.0\.1:\d+$/)
  assert.equal((await api("GET", "/v1/nodes/con-1")).body.console_enabled, true)

  // The URL is the serial line: the machine's prompt comes out, what we type goes in.
  const writer = await tcpClient(shown.console_info.url)
  await writer.until(/con-1 login: $/)
  writer.socket.write("root\r")
  await writer.until(/root\r\nLogin incorrect\r\n\r\ncon-1 login: $/)

  // Never two writers: a second TCP client is turned away while the first is connected.
  const second = await tcpClient(shown.console_info.url)
  await second.until(/in use/)
  await eventually(() => second.closed(), "the second TCP client was not disconnected")

  // The web view watches through a WebSocket, behind the same tokens, from its own origin only.
  const wsUrl = `${svc.url.replace(/^http/, "ws")}/ui/nodes/con-1/console`
  const refusal = (headers: Record<string, string>) => new Promise<number>((resolve) => {
    const ws = new WebSocket(wsUrl, { headers })
    ws.on("unexpected-response", (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate() })
    ws.on("open", () => { resolve(101); ws.close() })
    ws.on("error", () => {})
  })
  assert.equal(await refusal({}), 401)
  assert.equal(await refusal({ "X-Auth-Token": readerToken, Origin: "http://evil.example" }), 403)
  let watched = ""
  const watcher = new WebSocket(wsUrl, { headers: { "X-Auth-Token": readerToken } })
  watcher.on("message", (m: Buffer) => { watched += m.toString("latin1") })
  await new Promise((r) => watcher.once("open", r))
  await eventually(() => watched.includes("con-1 login:"), `the watcher saw no scrollback: ${JSON.stringify(watched)}`)
  watcher.send("typed by a watcher\r")
  writer.socket.write("ops\r")
  await eventually(() => watched.includes("ops\r\nLogin incorrect"), `the watcher did not see the writer's session: ${JSON.stringify(watched)}`)
  assert.ok(!writer.read().includes("typed by a watcher"), "a watcher cannot write")

  writer.socket.end()
  await eventually(async () => (await api("GET", `/v1/nodes/${node.uuid}/history`)).body.history
    .some((h: { type: string; data?: unknown }) => h.type === "ConsoleConnectionClosed"), "the writer's close was not recorded")
  const watcherClosed = new Promise((r) => watcher.once("close", r))
  assert.equal((await api("PUT", "/v1/nodes/con-1/states/console", { enabled: false })).status, 202)
  await watcherClosed
  assert.ok(watched.includes("[console disabled]"))
  assert.deepEqual((await api("GET", "/v1/nodes/con-1/states/console")).body, { console_enabled: false, console_info: null })

  const history = (await api("GET", `/v1/nodes/${node.uuid}/history/detail`)).body.history as Array<{ type: string; actor: string; data: Record<string, unknown> }>
  const consoleEvents = history.filter((h) => h.type.startsWith("Console"))
  assert.deepEqual(consoleEvents.map((h) => [h.type, h.actor, h.data["via"] ?? null, h.data["writer"] ?? null]), [
    ["ConsoleEnabled", "user:ops", null, null],
    ["ConsoleConnectionOpened", "user:ops", "tcp", true],
    ["ConsoleConnectionOpened", "user:viewer", "websocket", false],
    ["ConsoleConnectionClosed", "user:ops", "tcp", null],
    ["ConsoleConnectionClosed", "user:viewer", "websocket", null],
    ["ConsoleDisabled", "user:ops", null, null],
  ])
  const closedTcp = consoleEvents.find((h) => h.type === "ConsoleConnectionClosed" && h.data["via"] === "tcp")!
  assert.ok((closedTcp.data["durationMs"] as number) > 0)
})

test("a node whose console interface has no console cannot enable it", async () => {
  assert.equal((await api("POST", "/v1/nodes", { driver: "sim", name: "con-none", console_interface: "no-console" })).status, 201)
  const r = await api("PUT", "/v1/nodes/con-none/states/console", { enabled: true })
  assert.equal(r.status, 400)
  assert.match(messageOf(r), /console interface no-console/)
})

test("the web view's writer (ADR 0146): a reader may not; an admin's pane types, and holds the console against TCP clients and other panes", { timeout: 60_000 }, async () => {
  const created = (await api("POST", "/v1/nodes", { driver: "sim", name: "con-w" })).body
  assert.equal((await api("PUT", "/v1/nodes/con-w/states/console", { enabled: true })).status, 202)
  const url = (await api("GET", "/v1/nodes/con-w/states/console")).body.console_info.url as string
  const wsUrl = `${svc.url.replace(/^http/, "ws")}/ui/nodes/con-w/console?write=1`
  const status = (token: string) => new Promise<number>((resolve) => {
    const ws = new WebSocket(wsUrl, { headers: { "X-Auth-Token": token } })
    ws.on("unexpected-response", (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate() })
    ws.on("open", () => { resolve(101); ws.close() })
    ws.on("error", () => {})
  })
  assert.equal(await status(readerToken), 403, "a reader's pane stays read-only")

  let seen = ""
  const pane = new WebSocket(wsUrl, { headers: { "X-Auth-Token": adminToken } })
  pane.on("message", (m: Buffer) => { seen += m.toString("latin1") })
  await new Promise((r) => pane.once("open", r))
  await eventually(() => seen.includes("con-w login:"), `the pane got no scrollback: ${JSON.stringify(seen)}`)
  pane.send("ops\r")
  await eventually(() => seen.includes("ops\r\nLogin incorrect"), `what the pane typed did not reach the line: ${JSON.stringify(seen)}`)

  // Never two writers: a TCP client and a second pane are told who holds the console.
  const tcp = await tcpClient(url)
  await tcp.until(/in use \(websocket from /)
  await eventually(() => tcp.closed(), "the TCP client was not disconnected")
  let second = ""
  const other = new WebSocket(wsUrl, { headers: { "X-Auth-Token": adminToken } })
  other.on("message", (m: Buffer) => { second += m.toString("latin1") })
  await new Promise((r) => other.once("close", r))
  assert.match(second, /in use \(websocket from /)

  // Once the pane leaves, the TCP client may write again.
  pane.close()
  await eventually(async () => (await api("GET", `/v1/nodes/${created.uuid}/history`)).body.history
    .some((h: { type: string }) => h.type === "ConsoleConnectionClosed"), "the pane's close was not recorded")
  const after = await tcpClient(url)
  after.socket.write("\r")
  await after.until(/login:/)
  after.socket.end()
  assert.equal((await api("PUT", "/v1/nodes/con-w/states/console", { enabled: false })).status, 202)
  const history = (await api("GET", `/v1/nodes/${created.uuid}/history/detail`)).body.history as Array<{ type: string; actor: string; data: Record<string, unknown> }>
  const opened = history.filter((h) => h.type === "ConsoleConnectionOpened").map((h) => [h.actor, h.data["via"], h.data["writer"]])
  assert.deepEqual(opened[0], ["user:ops", "websocket", true], "the pane was recorded as the writer, under its user")
})
