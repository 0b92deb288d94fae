// `ironledger serve` as a real child process for end-to-end tests: started on a free loopback
// port (its URL read from the line it logs), stopped with SIGTERM (SIGKILL after 10 s).
import { spawn, type ChildProcess } from "node:child_process"
import { join, resolve } from "node:path"

const ironledger = join(resolve(import.meta.dirname, "../.."), "bin/ironledger")

export interface ServeProcess {
  readonly url: string
  readonly child: ChildProcess
  readonly stop: () => Promise<void>
}

/** Starts `ironledger serve ARGS --port 0 --host 127.0.0.1` and resolves once it listens. */
export const startServeProcess = async (args: ReadonlyArray<string>, startMs = 60_000): Promise<ServeProcess> => {
  const child = spawn(ironledger, ["serve", ...args, "--port", "0", "--host", "127.0.0.1"], { stdio: ["ignore", "ignore", "pipe"] })
  const url = await new Promise<string>((ready, reject) => {
    let seen = ""
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${seen}`)), startMs)
    child.stderr!.on("data", (d: Buffer) => {
      seen += d.toString()
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen)
      if (m) { clearTimeout(timer); ready(m[1]!) }
    })
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`serve exited with ${code}: ${seen}`)) })
  })
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once("exit", r))
    child.kill("SIGTERM")
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
    await exited
    clearTimeout(timer)
  }
  return { url, child, stop }
}
