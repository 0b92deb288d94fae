// The sim hardware type's serial console: a simulated UART on which the machine shows a login
// prompt and echoes what is typed, so console clients can be exercised without a BMC.
// While a rescue ramdisk runs on the machine (ADR 0095, 0136) the line is that ramdisk's getty, as
// the real one's: its issue, `ironledger-rescue login:`, `Password:` (not echoed), and only root
// with the password whose crypt hash the ramdisk fetched gets a shell (`~ # `, a few commands).
// Any other machine turns every login away, as one whose passwords no one here knows.
import * as Effect from "effect/Effect"
import { verify } from "unixcrypt"
import type { ConsoleInterface, SerialLine } from "../../application/hardware/console.ts"
import type { RescueShadows } from "./rescue-shadow.ts"

/** What the rescue ramdisk names its host (src/adapters/ramdisk/agent/rescue.sh). */
export const RESCUE_HOSTNAME = "ironledger-rescue"

export interface SimRescueConsole {
  readonly shadows: RescueShadows
  readonly nodeId: string
}

/** The few commands the rescue shell knows; anything else is "not found", as an empty PATH would say. */
const runCommand = (line: string): string | null => {
  const [command = "", ...args] = line.trim().split(/\s+/)
  switch (command) {
    case "hostname": return RESCUE_HOSTNAME
    case "whoami": return "root"
    case "id": return "uid=0(root) gid=0(root) groups=0(root)"
    case "echo": return args.join(" ").replace(/^(["'])(.*)\1$/, "$2")
    case "true": return null
    default: return `-sh: ${command}: not found`
  }
}

export const simSerialLine = (hostname: string, rescue?: SimRescueConsole): SerialLine => {
  const listeners: Array<(chunk: Buffer) => void> = []
  const ends: Array<(reason: string) => void> = []
  let closed = false
  let mode: "login" | "password" | "shell" = "login"
  let typed = ""
  let user = ""
  let lastWasCr = false
  const emit = (s: string) => { if (!closed) for (const l of listeners) l(Buffer.from(s)) }
  const rescueHash = () => rescue?.shadows.hashOf(rescue.nodeId) ?? null
  const prompt = () => rescueHash() === null ? `${hostname} login: ` : `ironledger rescue (node ${rescue!.nodeId})\r\n\r\n${RESCUE_HOSTNAME} login: `
  const toLogin = () => { mode = "login"; typed = ""; user = ""; emit(`\r\n${prompt()}`) }
  // A rescue ramdisk booting starts its getty: whoever watches sees the rescue login appear.
  const unsubscribe = rescue?.shadows.onRescueLogin(rescue.nodeId, () => toLogin()) ?? (() => {})
  // The banner comes after the first listener subscribes, as a UART's output would reach a client.
  setTimeout(() => emit(`\r\nironledger simulated serial console (ttyS0, 115200 8N1)\r\n\r\n${prompt()}`), 0)

  const enter = () => {
    const line = typed
    typed = ""
    if (mode === "login") {
      if (line === "") return emit(`\r\n${prompt()}`)
      if (rescueHash() === null) return emit(`\r\nLogin incorrect\r\n\r\n${prompt()}`)
      user = line
      mode = "password"
      return emit("\r\nPassword: ")
    }
    if (mode === "password") {
      const hash = rescueHash()
      // The password is checked against the hash the ramdisk fetched, and is neither echoed nor kept.
      const ok = hash !== null && user === "root" && verify(line, hash)
      if (!ok) { mode = "login"; user = ""; return emit(`\r\nLogin incorrect\r\n\r\n${prompt()}`) }
      mode = "shell"
      return emit("\r\n~ # ")
    }
    if (/^\s*(exit|logout)\s*$/.test(line)) return toLogin()
    const out = line.trim() === "" ? null : runCommand(line)
    emit(`\r\n${out === null ? "" : `${out}\r\n`}~ # `)
  }

  return {
    onData: (l) => { listeners.push(l) },
    onEnd: (l) => { ends.push(l) },
    write: (chunk) => {
      // The machine rebooted out of rescue under an open session: its shell is gone.
      if (mode !== "login" && rescueHash() === null) toLogin()
      for (const ch of chunk.toString("latin1")) {
        const crlf = lastWasCr && ch === "\n"
        lastWasCr = ch === "\r"
        if (crlf) continue
        if (ch === "\r" || ch === "\n") enter()
        else if (ch === "\x7f" || ch === "\b") {
          if (typed === "") continue
          typed = typed.slice(0, -1)
          if (mode !== "password") emit("\b \b")
        } else if (ch === "\x03") {
          typed = ""
          if (mode === "shell") emit("^C\r\n~ # ")
          else toLogin()
        } else if (ch >= " ") {
          typed += ch
          if (mode !== "password") emit(ch)
        }
      }
    },
    close: () => {
      if (closed) return
      closed = true
      unsubscribe()
      for (const l of ends) l("closed")
    },
  }
}

/** The console interface of a rack of simulated machines, reading each one's rescue state. */
export const simConsoleOf = (shadows?: RescueShadows): ConsoleInterface => ({
  slot: "console", name: "sim", description: "The simulated machine's serial port (a login prompt; a rescue ramdisk's login checks its password).", properties: [],
  open: (n) => Effect.sync(() => simSerialLine(n.name ?? n.nodeId.slice(0, 8), shadows === undefined ? undefined : { shadows, nodeId: n.nodeId })),
})

/** Machines that never run a rescue ramdisk. */
export const simConsole: ConsoleInterface = simConsoleOf()
