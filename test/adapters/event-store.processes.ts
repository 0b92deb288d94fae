// Child processes for the SQLite tests (see event-store.child.ts): started on the real file, read
// line by line, always killed at the end, every wait bounded.
import { spawn, type ChildProcess } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

const CHILD_SCRIPT = fileURLToPath(new URL("./event-store.child.ts", import.meta.url))

export interface Child {
  readonly process: ChildProcess
  /** Every JSON line printed so far. */
  readonly messages: ReadonlyArray<Record<string, unknown>>
  /** The first message (past or future) matching `predicate`; rejects after `timeoutMs`. */
  readonly waitFor: (predicate: (message: Record<string, unknown>) => boolean, timeoutMs: number) => Promise<Record<string, unknown>>
  /** Resolves with the exit code (null when killed by a signal); rejects after `timeoutMs`. */
  readonly exited: (timeoutMs: number) => Promise<number | null>
  readonly send: (line: string) => void
}

const running = new Set<ChildProcess>()

/** Kills every child still running; call from an `after` hook so a failed test leaks nothing. */
export const killAllChildren = () => {
  for (const child of running) child.kill("SIGKILL")
  running.clear()
}

const withTimeout = <A>(promise: Promise<A>, timeoutMs: number, what: string, stderr: () => string): Promise<A> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${stderr()}`)), timeoutMs)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export const startChild = (args: ReadonlyArray<string>): Child => {
  const child = spawn(process.execPath, [CHILD_SCRIPT, ...args], { stdio: ["pipe", "pipe", "pipe"] })
  running.add(child)
  const messages: Array<Record<string, unknown>> = []
  const listeners = new Set<() => void>()
  let stderr = ""
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  createInterface({ input: child.stdout! }).on("line", (line) => {
    messages.push(JSON.parse(line) as Record<string, unknown>)
    for (const listener of listeners) listener()
  })
  // "close", not "exit": it comes after stdout is drained, so every line has been seen.
  const exit = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      running.delete(child)
      resolve(code)
    })
  )
  return {
    process: child,
    messages,
    send: (line) => child.stdin!.write(`${line}\n`),
    exited: (timeoutMs) => withTimeout(exit, timeoutMs, `child ${args.join(" ")} to exit`, () => stderr),
    waitFor: (predicate, timeoutMs) => {
      const found = new Promise<Record<string, unknown>>((resolve, reject) => {
        const check = () => {
          const match = messages.find(predicate)
          if (match === undefined) return
          listeners.delete(check)
          resolve(match)
        }
        listeners.add(check)
        check()
        void exit.then(() => {
          if (listeners.delete(check)) reject(new Error(`child ${args.join(" ")} exited first; stderr: ${stderr}`))
        })
      })
      return withTimeout(found, timeoutMs, `a message from child ${args.join(" ")}`, () => stderr)
    },
  }
}
