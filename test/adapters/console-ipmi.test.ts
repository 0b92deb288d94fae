// The ipmi hardware type's console (ipmitool-socat) against a real ipmi_sim: its `sol` line is
// connected to a simulated serial port (a TCP server in this test standing in for the machine's
// UART; on the VMs it is QEMU's serial socket), and the test reads and writes the console through
// the tcp:// URL console_info gives: bytes typed there reach the UART through ipmitool SOL and
// ipmi_sim, and the UART's answer comes back the same way.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { execFile, spawn, type ChildProcess } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { connect, createServer, type Server, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { bmcEmu } from "../../src/adapters/sim/bmc/config-files.ts"
import { freeTcpPort, freeUdpPort } from "../../src/adapters/sim/bmc/free-port.ts"
import WebSocket from "ws"
import { client, startTestService, type TestService } from "./http-harness.ts"

let dir: string
let bmcPort: number
let ipmiSim: ChildProcess | undefined
let uart: Server
const uartSockets = new Set<Socket>()
let uartHeard = ""
let simOutput = ""
let svc: TestService

const ipmitool = (args: ReadonlyArray<string>) => new Promise<number>((resolve) => {
  execFile("ipmitool", ["-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", String(bmcPort), "-U", "admin", "-E", ...args],
    { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", IPMI_PASSWORD: "secret" }, timeout: 5000 }, (e) => resolve(e === null ? 0 : 1))
})

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ironledger-sol-"))
  // The machine's UART: echoes what arrives and prompts again at each Enter, as a getty would.
  uart = createServer((s) => {
    uartSockets.add(s)
    s.on("close", () => uartSockets.delete(s))
    s.on("error", () => {})
    s.on("data", (d: Buffer) => {
      uartHeard += d.toString("latin1")
      s.write(d)
      if (d.includes(13)) s.write("\r\nsolbox login: ")
    })
  })
  await new Promise<void>((r) => uart.listen(0, "127.0.0.1", r))
  const uartPort = (uart.address() as { port: number }).port
  bmcPort = await freeUdpPort()
  const serialPort = await freeTcpPort()
  mkdirSync(join(dir, "state"))
  writeFileSync(join(dir, "lan.conf"), `name "solbmc"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${bmcPort}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  serial 15 127.0.0.1 ${serialPort} codec VM
  sol "tcp:127.0.0.1:${uartPort}" 115200
  startcmd "sleep 2147483647"
  startnow false
  user 2 true "admin" "secret" admin 10 none md2 md5 straight
`, { mode: 0o600 })
  writeFileSync(join(dir, "bmc.emu"), bmcEmu)
  ipmiSim = spawn("ipmi_sim", ["-c", join(dir, "lan.conf"), "-f", join(dir, "bmc.emu"), "-s", join(dir, "state"), "-n"], { stdio: ["ignore", "pipe", "pipe"] })
  ipmiSim.stdout!.on("data", (d: Buffer) => { simOutput += d.toString() })
  ipmiSim.stderr!.on("data", (d: Buffer) => { simOutput += d.toString() })
  for (let i = 0; i < 50 && (await ipmitool(["chassis", "power", "status"])) !== 0; i++) await new Promise((r) => setTimeout(r, 100))
  assert.equal(await ipmitool(["chassis", "power", "status"]), 0, `ipmi_sim did not answer: ${simOutput}`)
  svc = await startTestService({ notary: false })
})

after(async () => {
  await svc?.close()
  ipmiSim?.kill("SIGKILL")
  for (const s of uartSockets) s.destroy()
  uart?.close()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

// ipmitool is run under stdbuf: on a pipe its stdout is block buffered, and nothing came back
// until the session ended (the reason this test was once skipped).
test("console_info's tcp:// URL is the node's serial line through ipmitool SOL and ipmi_sim", {
  timeout: 60_000,
}, async () => {
  const api = client(svc.url)
  const created = await api("POST", "/v1/nodes", {
    driver: "ipmi", name: "sol-1", console_interface: "ipmitool-socat",
    driver_info: { ipmi_address: "127.0.0.1", ipmi_port: bmcPort, ipmi_username: "admin", ipmi_password: "secret" },
  })
  assert.equal(created.status, 201, created.text)
  assert.equal((await api("PUT", "/v1/nodes/sol-1/states/console", { enabled: true })).status, 202)
  const info = (await api("GET", "/v1/nodes/sol-1/states/console")).body.console_info
  assert.match(info.url, /^tcp:\/\/127\.0\.0\.1:\d+$/)

  const { port } = new URL(info.url.replace(/^tcp:/, "http:"))
  const socket = connect(Number(port), "127.0.0.1")
  let read = ""
  socket.on("data", (c: Buffer) => { read += c.toString("latin1") })
  await new Promise((r) => socket.once("connect", r))
  const until = async (pattern: RegExp) => {
    for (let i = 0; i < 300 && !pattern.test(read); i++) await new Promise((r) => setTimeout(r, 50))
    assert.match(read, pattern)
  }
  await until(/SOL Session operational/)
  socket.write("hello-sol\r")
  await until(/hello-sol\r\r\nsolbox login: /)
  assert.ok(uartHeard.includes("hello-sol\r"), `the UART heard ${JSON.stringify(uartHeard)}`)

  const closed = new Promise((r) => socket.once("close", r))
  socket.end()
  await closed
  assert.equal((await api("PUT", "/v1/nodes/sol-1/states/console", { enabled: false })).status, 202)
  // The SOL session was given back: a fresh one can start at once.
  assert.equal(await ipmitool(["sol", "info"]), 0)
  const types = ((await api("GET", "/v1/nodes/sol-1/history")).body.history as Array<{ type: string }>).map((h) => h.type)
  assert.deepEqual(types.filter((t) => t.startsWith("Console")),
    ["ConsoleEnabled", "ConsoleConnectionOpened", "ConsoleConnectionClosed", "ConsoleDisabled"])
})

// The web view's pane watches, then takes the console (ADR 0146) as its earlier script did: the
// watcher's SOL session closes as the writer's opens. The hub opens the new session only once the
// old ipmitool has ended: on a loaded VM host the old one's late exit ended the new session.
test("a web view pane that leaves and comes back as the writer gets a working SOL session", { timeout: 60_000 }, async () => {
  const api = client(svc.url)
  assert.equal((await api("POST", "/v1/nodes", {
    driver: "ipmi", name: "sol-2", console_interface: "ipmitool-socat",
    driver_info: { ipmi_address: "127.0.0.1", ipmi_port: bmcPort, ipmi_username: "admin", ipmi_password: "secret" },
  })).status, 201)
  assert.equal((await api("PUT", "/v1/nodes/sol-2/states/console", { enabled: true })).status, 202)
  const ws = `${svc.url.replace(/^http/, "ws")}/ui/nodes/sol-2/console`
  const pane = (url: string) => {
    const socket = new WebSocket(url)
    let read = ""
    let closed = false
    socket.on("message", (m: Buffer) => { read += m.toString("latin1") })
    socket.on("close", () => { closed = true })
    socket.on("error", () => {})
    return { socket, read: () => read, closed: () => closed, open: new Promise((r) => socket.once("open", r)) }
  }
  const watcher = pane(ws)
  await watcher.open
  for (let i = 0; i < 300 && !/SOL Session operational/.test(watcher.read()); i++) await new Promise((r) => setTimeout(r, 50))
  assert.match(watcher.read(), /SOL Session operational/)
  watcher.socket.close()
  const writer = pane(`${ws}?write=1`)
  await writer.open
  // A fresh ipmi_sim SOL session may drop its first packet (ADR 0064): the line is typed again.
  for (let i = 0; i < 30 && !/again-sol\r\r\nsolbox login: /.test(writer.read()) && !writer.closed(); i++) {
    if (i % 6 === 0) writer.socket.send("again-sol\r")
    await new Promise((r) => setTimeout(r, 500))
  }
  assert.match(writer.read(), /again-sol\r\r\nsolbox login: /, `the writer's session: ${JSON.stringify(writer.read())}`)
  assert.equal(writer.closed(), false)
  writer.socket.close()
  assert.equal((await api("PUT", "/v1/nodes/sol-2/states/console", { enabled: false })).status, 202)
})
