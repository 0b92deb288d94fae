// Runs a build tool and returns its stdout; a failure names the tool and its last words.
import { execFile } from "node:child_process"

export class BuildFailed extends Error {
  override readonly name = "BuildFailed"
}

export const run = (program: string, args: ReadonlyArray<string>, options: { cwd?: string; maxBuffer?: number } = {}) =>
  new Promise<string>((resolve, reject) => {
    execFile(program, [...args], { cwd: options.cwd, maxBuffer: options.maxBuffer ?? 64 * 1024 * 1024, env: { ...process.env, LC_ALL: "C" } },
      (error, stdout, stderr) => {
        if (error === null) return resolve(stdout)
        const said = stderr.trim().split("\n").slice(-3).join(" | ")
        reject(new BuildFailed(`${program} ${args.join(" ")}: ${said || error.message}`))
      })
  })
