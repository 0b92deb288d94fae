// The simulated machine's serial console in rescue (ADR 0095, 0136), driven as an operator would:
// console_info's tcp:// URL, Enter, the rescue ramdisk's login, root, the password. Only the
// password whose crypt hash the rescue step set opens a shell; a wrong one, or another user, is
// "Login incorrect"; the password is never echoed; after unrescue no password opens the machine.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { connect, type Socket } from "node:net"
import { simulatedHardware } from "../../src/cli/hardware.ts"
import { client, settleNode, startTestService, type TestService } from "./http-harness.ts"

const password = "Rescue me, 7 times!"
let svc: TestService
let api: ReturnType<typeof client>

before(async () => {
  svc = await startTestService({ hardware: simulatedHardware({ callbackDelayMs: 20 }) })
  api = client(svc.url)
})
after(async () => { await svc?.close() })

/** A terminal on console_info's URL: what it shows, and a wait for what should come next. */
const terminal = async (url: string) => {
  const { hostname, port } = new URL(url.replace(/^tcp:/, "http:"))
  const socket: Socket = connect(Number(port), hostname)
  let shown = ""
  let from = 0
  socket.on("data", (c: Buffer) => { shown += c.toString("latin1") })
  socket.on("error", () => {})
  await new Promise((r) => socket.once("connect", r))
  return {
    type: (keys: string) => { socket.write(keys) },
    shown: () => shown,
    /** Waits for the pattern in what came since the last match. */
    expect: async (pattern: RegExp, ms = 10_000) => {
      const end = Date.now() + ms
      for (;;) {
        const m = pattern.exec(shown.slice(from))
        if (m !== null) { from += m.index + m[0].length; return m[0] }
        if (Date.now() > end) assert.fail(`the console never showed ${pattern}; it showed ${JSON.stringify(shown.slice(from))}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
    close: () => new Promise<void>((r) => { socket.once("close", () => r()); socket.end() }),
  }
}

const provision = async (name: string, body: Record<string, unknown>, state: string) => {
  const r = await api("PUT", `/v1/nodes/${name}/states/provision`, body)
  assert.equal(r.status, 202, r.text)
  return settleNode(api, name, state)
}

test("a rescued simulated machine's console asks for root's password and accepts only the rescue password", { timeout: 60_000 }, async () => {
  const node = (await api("POST", "/v1/nodes", { driver: "sim", name: "rc-1" })).body
  assert.equal((await api("POST", "/v1/ports", { node_uuid: node.uuid, address: "52:54:00:e2:00:01" })).status, 201)
  for (const [target, state] of [["manage", "manageable"], ["provide", "available"], ["active", "active"]] as const) await provision("rc-1", { target }, state)

  assert.equal((await api("PUT", "/v1/nodes/rc-1/states/console", { enabled: true })).status, 202)
  const url = (await api("GET", "/v1/nodes/rc-1/states/console")).body.console_info.url as string
  const tty = await terminal(url)
  try {
    // Deployed, not rescued: the machine's own login, which no password here opens.
    await tty.expect(/rc-1 login: $/)
    tty.type("root\r")
    await tty.expect(/Login incorrect\r\n\r\nrc-1 login: $/)

    // The rescue ramdisk boots while the console is open: its getty shows the rescue login.
    await provision("rc-1", { target: "rescue", rescue_password: password }, "rescue")
    await tty.expect(new RegExp(`ironledger rescue \\(node ${node.uuid}\\)\\r\\n\\r\\nironledger-rescue login: $`))

    // A wrong password, then the right one for another user: both turned away.
    tty.type("root\r")
    await tty.expect(/root\r\nPassword: $/)
    tty.type("not the password\r")
    await tty.expect(/\r\nLogin incorrect\r\n\r\n.*ironledger-rescue login: $/s)
    tty.type("admin\r")
    await tty.expect(/Password: $/)
    tty.type(`${password}\r`)
    await tty.expect(/Login incorrect\r\n\r\n.*ironledger-rescue login: $/s)

    // root with the rescue password (typed with a slip and a backspace, a CR LF at the end): a shell.
    tty.type("root\r\n")
    await tty.expect(/Password: $/)
    tty.type(`${password}x\x7f\r\n`)
    await tty.expect(/\r\n~ # $/)
    tty.type("hostname\r")
    await tty.expect(/hostname\r\nironledger-rescue\r\n~ # $/)
    tty.type("whoami\r")
    await tty.expect(/root\r\n~ # $/)
    tty.type("exit\r")
    await tty.expect(/ironledger-rescue login: $/)
    assert.ok(!tty.shown().includes(password), "the password is never echoed")

    // Unrescued: the machine reboots into its instance; the rescue password opens nothing.
    await provision("rc-1", { target: "unrescue" }, "active")
    tty.type("root\r")
    await tty.expect(/rc-1 login: $/)
    assert.doesNotMatch(tty.shown().slice(-40), /Password/)
  } finally {
    await tty.close()
  }
  // The password is in no record the service kept.
  const history = (await api("GET", "/v1/nodes/rc-1/history/detail")).body
  assert.ok(!JSON.stringify(history).includes(password))
})

test("a session left open in rescue ends when the machine reboots out of it", { timeout: 60_000 }, async () => {
  const node = (await api("POST", "/v1/nodes", { driver: "sim", name: "rc-2" })).body
  assert.equal((await api("POST", "/v1/ports", { node_uuid: node.uuid, address: "52:54:00:e2:00:02" })).status, 201)
  for (const [target, state] of [["manage", "manageable"], ["provide", "available"], ["active", "active"]] as const) await provision("rc-2", { target }, state)
  await provision("rc-2", { target: "rescue", rescue_password: password }, "rescue")
  assert.equal((await api("PUT", "/v1/nodes/rc-2/states/console", { enabled: true })).status, 202)
  const tty = await terminal((await api("GET", "/v1/nodes/rc-2/states/console")).body.console_info.url as string)
  try {
    await tty.expect(/ironledger-rescue login: $/)
    tty.type(`root\r${password}\r`)
    await tty.expect(/~ # $/)
    await provision("rc-2", { target: "unrescue" }, "active")
    // The next keystroke finds the machine's own login, not the rescue shell.
    tty.type("hostname\r")
    await tty.expect(/rc-2 login: /)
    assert.doesNotMatch(tty.shown().slice(tty.shown().lastIndexOf("rc-2 login: ")), /ironledger-rescue\r\n~ #/)
  } finally {
    await tty.close()
  }
})
