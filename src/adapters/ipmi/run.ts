// Runs one ipmitool process with a hard deadline: SIGKILL when it hangs, and on interruption too,
// so no ipmitool outlives the operation that started it.
import { spawn } from "node:child_process"
import * as Effect from "effect/Effect"
import { BmcCommandFailed, BmcTimeout } from "../../ports/power-driver.ts"

export interface IpmitoolRun {
  readonly program: string
  readonly argv: ReadonlyArray<string>
  readonly env: Record<string, string>
  readonly timeoutMs: number
  /** address:port, for errors. */
  readonly bmc: string
  /** e.g. "chassis power on", for errors. */
  readonly command: string
}

export interface IpmitoolOutput {
  readonly exitCode: number | null
  readonly stdout: string
  readonly stderr: string
  readonly elapsedMs: number
}

/** Output beyond this is not an answer ipmitool gives to a chassis command: cut it, keep memory bounded. */
const MAX_OUTPUT = 64 * 1024

export const runIpmitool = (run: IpmitoolRun): Effect.Effect<IpmitoolOutput, BmcTimeout | BmcCommandFailed> =>
  Effect.callback<IpmitoolOutput, BmcTimeout | BmcCommandFailed>((resume) => {
    const started = performance.now()
    const child = spawn(run.program, [...run.argv], { env: run.env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    let settled = false
    const settle = (effect: Effect.Effect<IpmitoolOutput, BmcTimeout | BmcCommandFailed>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resume(effect)
    }
    // Told once the killed process is gone, so that a cap on processes counts it until then.
    let killed = false
    const timedOut = () => settle(Effect.fail(new BmcTimeout({ bmc: run.bmc, afterMs: run.timeoutMs })))
    const timer = setTimeout(() => {
      killed = true
      child.kill("SIGKILL")
      setTimeout(timedOut, 1000).unref() // a process that outlives SIGKILL is not waited for longer
    }, run.timeoutMs)
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => { if (stdout.length < MAX_OUTPUT) stdout += chunk })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => { if (stderr.length < MAX_OUTPUT) stderr += chunk })
    child.on("error", (error) =>
      settle(Effect.fail(new BmcCommandFailed({ bmc: run.bmc, command: run.command, detail: `cannot run ${run.program}: ${error.message}` }))))
    // "close" (not "exit"): both pipes are drained, so the output is complete.
    child.on("close", (exitCode) => killed ? timedOut()
      : settle(Effect.succeed({ exitCode, stdout, stderr, elapsedMs: Math.round(performance.now() - started) })))
    return Effect.sync(() => {
      clearTimeout(timer)
      settled = true
      child.kill("SIGKILL")
    })
  })
