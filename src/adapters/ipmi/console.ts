// The ipmi hardware type's serial console, as Ironic's ipmitool-socat: `ipmitool sol activate`
// against the node's BMC, its stdin and stdout being the serial line. A stale SOL session (a
// client that vanished) is deactivated first, as Ironic does; the password goes through the
// environment (-E), never argv.
import { spawn } from "node:child_process"
import * as Effect from "effect/Effect"
import type { ConsoleInterface, SerialLine } from "../../application/hardware/console.ts"
import type { BmcAccess } from "../../ports/index.ts"
import { ipmitoolConfig, type IpmitoolConfig } from "./config.ts"
import { ipmitoolEnv } from "./argv.ts"
import { bmcOf, checkInfo, properties, validate } from "./hardware.ts"

const solArgv = (config: IpmitoolConfig, bmc: BmcAccess, action: "activate" | "deactivate"): ReadonlyArray<string> => [
  "-I", "lanplus", "-C", String(config.cipherSuite), "-H", bmc.address, "-p", String(bmc.port),
  ...(bmc.username === "" ? [] : ["-U", bmc.username]),
  "-L", "ADMINISTRATOR", "-E", "-N", String(config.sessionTimeoutSec), "-R", String(config.sessionRetries),
  "sol", action,
]

const deactivate = (config: IpmitoolConfig, bmc: BmcAccess) =>
  Effect.promise(() => new Promise<void>((done) => {
    const p = spawn(config.ipmitoolPath, solArgv(config, bmc, "deactivate"), { env: ipmitoolEnv(bmc), stdio: "ignore" })
    const timer = setTimeout(() => p.kill("SIGKILL"), config.invocationTimeoutMs)
    p.on("close", () => { clearTimeout(timer); done() })
    p.on("error", () => { clearTimeout(timer); done() })
  }))

/** A running `sol activate`: its output is the machine's serial output; what we write, the machine reads. */
const activate = (config: IpmitoolConfig, bmc: BmcAccess): SerialLine => {
  // ipmitool writes the console to stdio: on a pipe (not a terminal) its output would be block
  // buffered and reach us only when the session ends (no byte came back, ADR 0064). Ironic runs it
  // on socat's pty; stdbuf makes its stdout and stderr unbuffered, which is all this needs.
  const child = spawn("stdbuf", ["-o0", "-e0", config.ipmitoolPath, ...solArgv(config, bmc, "activate")], { env: ipmitoolEnv(bmc), stdio: ["pipe", "pipe", "pipe"] })
  const ends: Array<(reason: string) => void> = []
  let stderr = ""
  let ended: string | null = null
  const end = (reason: string) => {
    if (ended !== null) return
    ended = reason
    for (const l of ends) l(reason)
  }
  const outputs: Array<(chunk: Buffer) => void> = []
  // Output that comes before the hub listens (the session banner) is kept for it.
  const early: Array<Buffer> = []
  const emit = (c: Buffer) => { if (outputs.length === 0) early.push(c); else for (const l of outputs) l(c) }
  child.stdout.on("data", emit)
  // ipmitool says "[SOL Session operational ...]" and "[terminated ipmitool]" on stderr: part of the
  // console, as socat's `stderr` option makes it; its complaint that a pipe is not a terminal is not.
  child.stderr.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-500)
    const shown = c.toString("latin1").split("\n").filter((l) => !l.startsWith("tcgetattr")).join("\n")
    if (shown !== "") emit(Buffer.from(shown, "latin1"))
  })
  child.on("error", (e) => end(`ipmitool could not start: ${e.message}`))
  child.on("close", (code) => end(code === 0 ? "SOL session ended" : `ipmitool sol activate exited ${code}: ${stderr.trim().split("\n").pop() ?? ""}`))
  child.stdin.on("error", () => {})
  return {
    onData: (l) => { outputs.push(l); for (const c of early.splice(0)) l(c) },
    onEnd: (l) => { if (ended !== null) l(ended); else ends.push(l) },
    write: (chunk) => { if (ended === null) child.stdin.write(chunk) },
    close: () => {
      // "~." is ipmitool's escape to end the session cleanly (the BMC frees its SOL payload).
      if (ended === null) child.stdin.write("\r~.")
      setTimeout(() => { if (ended === null) child.kill("SIGKILL") }, 2000).unref()
    },
  }
}

export const ipmitoolConsole = (overrides: Partial<IpmitoolConfig> = {}): ConsoleInterface => {
  const config = ipmitoolConfig(overrides)
  return {
    slot: "console", name: "ipmitool-socat",
    description: "The serial console over IPMI Serial-over-LAN (ipmitool sol activate), served on a TCP port as Ironic's socat console.",
    properties, checkInfo, validate,
    open: (n) => Effect.gen(function* () {
      const bmc = yield* bmcOf(n)
      yield* deactivate(config, bmc)
      return activate(config, bmc)
    }),
  }
}
