// A client of a console_info tcp:// URL that lives inside a network namespace (the VM rack's API
// host): a small Node process there, started with `ip netns exec`, joins its stdin and stdout to
// the TCP connection. What it reads is kept; `until` waits for a pattern, sending a poke now and then.
import { spawn } from "node:child_process"

const relay = `const s = require("node:net").connect(Number(process.argv[2]), process.argv[1]);
process.stdin.pipe(s); s.pipe(process.stdout); s.on("error", (e) => { console.error(e.message); process.exit(1) }); s.on("close", () => process.exit(0))`

export interface ConsoleSession {
  readonly send: (text: string) => void
  /** Waits until what was read (since the last match) matches; `poke` is sent every 2 s meanwhile. */
  readonly until: (pattern: RegExp, ms: number, poke?: string) => Promise<void>
  readonly read: () => string
  readonly close: () => Promise<void>
}

export const openConsoleInNamespace = async (namespace: string, url: string): Promise<ConsoleSession> => {
  const { hostname, port } = new URL(url.replace(/^tcp:/, "http:"))
  const child = spawn("ip", ["netns", "exec", namespace, process.execPath, "-e", relay, hostname, port], { stdio: ["pipe", "pipe", "pipe"] })
  let all = ""
  let from = 0
  child.stdout.on("data", (c: Buffer) => { all += c.toString("latin1") })
  child.stderr.on("data", (c: Buffer) => { all += `[relay: ${c.toString()}]` })
  child.stdin.on("error", () => {})
  const exited = new Promise<void>((r) => child.once("close", () => r()))
  const send = (text: string) => { if (child.exitCode === null) child.stdin.write(text) }
  return {
    send,
    read: () => all,
    until: async (pattern, ms, poke) => {
      const deadline = Date.now() + ms
      let poked = 0
      for (;;) {
        const m = pattern.exec(all.slice(from))
        if (m !== null) { from += m.index + m[0].length; return }
        if (child.exitCode !== null) throw new Error(`the console connection ended while waiting for ${pattern}`)
        if (Date.now() > deadline) throw new Error(`no ${pattern} on the console within ${ms} ms`)
        if (poke !== undefined && Date.now() - poked > 2000) { send(poke); poked = Date.now() }
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    close: async () => {
      child.stdin.end()
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000)
      await exited
      clearTimeout(timer)
    },
  }
}
