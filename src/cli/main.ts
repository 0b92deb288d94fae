// ironledger: the command line. `serve` runs the service; the other commands talk to its API
// (--url, default $IRONLEDGER_URL or http://127.0.0.1:6385), or read the log directly with --db.
import { readFileSync } from "node:fs"
import { parseArgs, UsageError } from "./args.ts"
import { ApiError, makeClient, type Client } from "./client.ts"
import { globalOptions, type Command, type Env } from "./command.ts"
import { auditCommands } from "./commands/audit.ts"
import { certifyCommand } from "./commands/certify.ts"
import { conductorCommand } from "./commands/conductor.ts"
import { importCommand, ImportRefused } from "./commands/import.ts"
import { migrateCommand } from "./commands/migrate.ts"
import { nodeCommands } from "./commands/nodes.ts"
import { portCommands } from "./commands/ports.ts"
import { provisionCommands } from "./commands/provision.ts"
import { ramdiskBuildCommand } from "./commands/ramdisk.ts"
import { serveCommand } from "./commands/serve.ts"
import { stdoutOut } from "./output.ts"
import { verifyCommands } from "./commands/verify.ts"
import { fleetExportCommands } from "./commands/fleet-export.ts"
import { instanceCommands } from "./commands/instance.ts"

const commands: ReadonlyArray<Command> = [
  serveCommand, conductorCommand, ...nodeCommands, importCommand, ...portCommands, ...provisionCommands, ...auditCommands,
  ...verifyCommands, ...fleetExportCommands, certifyCommand, migrateCommand, ramdiskBuildCommand, ...instanceCommands,
]

const usage = () =>
  [
    "usage: ironledger COMMAND [options]   (global: --url URL, --json, --token-file FILE)",
    ...commands.map((c) => `  ironledger ${c.usage}`),
  ].join("\n")

const find = (argv: ReadonlyArray<string>): { command: Command; rest: ReadonlyArray<string> } | undefined => {
  // Longest match first: "node list" before a one-word command.
  const sorted = [...commands].sort((a, b) => b.words.length - a.words.length)
  for (const c of sorted) {
    if (c.words.every((w, i) => argv[i] === w)) return { command: c, rest: argv.slice(c.words.length) }
  }
  return undefined
}

const tokenOf = (file: string | undefined): string | undefined => {
  if (file !== undefined) return readFileSync(file, "utf8").trim()
  return process.env["IRONLEDGER_TOKEN"] || undefined
}

export const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const found = find(argv)
  if (found === undefined) {
    const helpWanted = argv.length === 0 || argv[0] === "--help" || argv[0] === "help"
    process[helpWanted ? "stdout" : "stderr"].write(`${helpWanted ? "" : `unknown command: ${argv.join(" ")}\n`}${usage()}\n`)
    return helpWanted ? 0 : 2
  }
  const { command, rest } = found
  try {
    const args = parseArgs(rest, { ...globalOptions, ...command.options })
    if (args.flags.has("help")) {
      process.stdout.write(`usage: ironledger ${command.usage}\n`)
      return 0
    }
    let client: Client | undefined
    const env: Env = {
      client: () => (client ??= makeClient({
        url: args.strings["url"] ?? process.env["IRONLEDGER_URL"] ?? "http://127.0.0.1:6385",
        ...(tokenOf(args.strings["token-file"]) === undefined ? {} : { token: tokenOf(args.strings["token-file"])! }),
      })),
      out: stdoutOut(args.flags.has("json")),
      note: (line) => process.stderr.write(`${line}\n`),
      isTty: process.stderr.isTTY === true,
    }
    await command.run(args, env)
    return 0
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`ironledger: ${e.message}\nusage: ironledger ${command.usage}\n`)
      return 2
    }
    if (e instanceof ApiError || e instanceof ImportRefused) {
      process.stderr.write(`ironledger: ${e.message}\n`)
      return 1
    }
    process.stderr.write(`ironledger: ${(e as Error)?.message ?? String(e)}\n`)
    return 1
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code })
}
