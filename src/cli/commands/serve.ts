// ironledger serve: the API and the conductor over the embedded SQLite log, until SIGINT/SIGTERM.
import { loadTokenFile, noauth } from "../../adapters/http/auth.ts"
import { UsageError } from "../args.ts"
import { noMorePositionals, type Command } from "../command.ts"
import { startService } from "../service.ts"

const intOption = (raw: string | undefined, name: string, fallback: number, min: number, max: number): number => {
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`--${name} takes a number from ${min} to ${max}`)
  return Number(raw)
}

export const serveCommand: Command = {
  words: ["serve"],
  usage: "serve [--db FILE] [--port N] [--host H] [--sim N] [--tokens FILE] [--access-log]",
  options: { db: "string", port: "string", host: "string", sim: "string", tokens: "string", "access-log": "flag" },
  run: async (args, env) => {
    noMorePositionals(args, 0)
    const port = intOption(args.strings["port"], "port", 6385, 0, 65535)
    const sim = intOption(args.strings["sim"], "sim", 0, 0, 100_000)
    const host = args.strings["host"] ?? "127.0.0.1"
    const db = args.strings["db"] ?? "ironledger.db"
    const auth = args.strings["tokens"] === undefined ? noauth : loadTokenFile(args.strings["tokens"])
    const running = await startService({
      db, port, host, auth, sim,
      ...(args.flags.has("access-log") ? { log: (line: string) => env.note(line) } : { log: (line: string) => { if (line.startsWith("internal error")) env.note(line) } }),
    })
    env.note(`ironledger API listening on ${running.url} (log: ${db}, auth: ${auth.mode}${sim > 0 ? `, ${sim} simulated nodes` : ""})`)
    await new Promise<void>((resolve) => {
      const stop = () => resolve()
      process.once("SIGINT", stop)
      process.once("SIGTERM", stop)
    })
    env.note("stopping")
    await running.close()
  },
}
