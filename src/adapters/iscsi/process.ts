// Runs the programs the block writers wrap (qemu-img, qemu-io, mkfs.ext4) as Effects with bounds:
// a hard deadline, an optional silence deadline (a copy that stops reporting progress is stuck), and
// SIGKILL on interruption, so no qemu-img outlives the deploy that started it.
import { spawn } from "node:child_process"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"

export class CommandFailed extends Data.TaggedError("CommandFailed")<{
  readonly program: string
  /** What went wrong, including the program's last words on stderr. */
  readonly reason: string
  readonly stderr: string
}> {
  override get message() { return `${this.program}: ${this.reason}` }
}

export interface RunOptions {
  readonly timeoutMs: number
  /** Killed when stdout stays silent this long (for commands that report progress). */
  readonly silenceTimeoutMs?: number
  readonly onStdout?: (chunk: string) => void
  readonly env?: Readonly<Record<string, string>>
}

export interface RunOutput {
  readonly stdout: string
  readonly stderr: string
}

/** Output beyond this is noise (progress lines): keep memory bounded. */
const MAX_OUTPUT = 1024 * 1024

const lastLine = (text: string) => text.trim().split("\n").pop()?.trim() ?? ""

export const runCommand = (program: string, args: ReadonlyArray<string>, options: RunOptions): Effect.Effect<RunOutput, CommandFailed> =>
  Effect.callback<RunOutput, CommandFailed>((resume) => {
    // LC_ALL=C: error texts are matched, so they must not be translated.
    const child = spawn(program, [...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LC_ALL: "C", ...options.env },
    })
    let stdout = ""
    let stderr = ""
    let settled = false
    let silence: NodeJS.Timeout | undefined
    const settle = (effect: Effect.Effect<RunOutput, CommandFailed>) => {
      if (settled) return
      settled = true
      clearTimeout(deadline)
      clearTimeout(silence)
      resume(effect)
    }
    const kill = (reason: string) => {
      child.kill("SIGKILL")
      settle(Effect.fail(new CommandFailed({ program, reason, stderr })))
    }
    // Unref'd: the child keeps the process alive while it runs, a timer must not outlive it.
    const deadline = setTimeout(() => kill(`timed out after ${options.timeoutMs} ms`), options.timeoutMs).unref()
    const armSilence = () => {
      if (options.silenceTimeoutMs === undefined || settled) return
      clearTimeout(silence)
      silence = setTimeout(() => kill(`no progress for ${options.silenceTimeoutMs} ms`), options.silenceTimeoutMs).unref()
    }
    armSilence()
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += chunk
      armSilence()
      options.onStdout?.(chunk)
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => { if (stderr.length < MAX_OUTPUT) stderr += chunk })
    child.on("error", (error) => settle(Effect.fail(new CommandFailed({ program, reason: `cannot run it: ${error.message}`, stderr }))))
    // "close" (not "exit"): both pipes are drained, so the output is complete.
    child.on("close", (code, signal) => {
      if (code === 0) return settle(Effect.succeed({ stdout, stderr }))
      const why = signal ? `killed by ${signal}` : `exit status ${code}`
      const said = lastLine(stderr) || lastLine(stdout)
      settle(Effect.fail(new CommandFailed({ program, reason: said ? `${said} (${why})` : why, stderr })))
    })
    return Effect.sync(() => {
      settled = true
      clearTimeout(deadline)
      clearTimeout(silence)
      child.kill("SIGKILL")
    })
  })
