// The command tree handed to commander (ADR 0067): every Command becomes a (sub)command with its
// description, usage and examples under --help; the global options are the program's, so they
// are accepted before or after the command words.
import { readFileSync } from "node:fs"
import { Command as Commander, CommanderError, Option } from "commander"
import { declareOptions, parsedOf, UsageError, type OptionSpec, type Parsed } from "./args.ts"
import { ApiError, makeClient, type Client } from "./client.ts"
import type { Command, Env } from "./command.ts"
import { stdoutOut } from "./output.ts"
import { nameNodesAsTyped } from "./typed-names.ts"

const globalSpec: OptionSpec = { url: "string", json: "flag", "token-file": "string" }

const groupDescriptions: Record<string, string> = {
  node: "Enroll, list, show, change and delete nodes; bulk-enroll them from a CSV file.",
  port: "Add, list, show and delete the ports (MAC addresses) of nodes.",
  ramdisk: "Build the deploy ramdisk.",
}

const examplesText = (examples: ReadonlyArray<string>) =>
  examples.length === 0 ? "" : `\nExamples:\n${examples.map((e) => `  $ ironledger ${e}`).join("\n")}\n`

/** The command list under `ironledger --help` shows each description's first sentence. */
const firstSentence = (text: string) => /^.*?[.!?](?=\s|$)/.exec(text)?.[0] ?? text

const tokenOf = (file: string | undefined): string | undefined => {
  if (file !== undefined) {
    try {
      return readFileSync(file, "utf8").trim()
    } catch (e) {
      throw new UsageError(`cannot read the token file ${file}: ${(e as Error).message}`)
    }
  }
  return process.env["IRONLEDGER_TOKEN"] || undefined
}

const envOf = (args: Parsed): Env => {
  let client: Client | undefined
  return {
    client: () => {
      if (client !== undefined) return client
      const token = tokenOf(args.strings["token-file"])
      client = makeClient({
        url: args.strings["url"] ?? process.env["IRONLEDGER_URL"] ?? "http://127.0.0.1:6385",
        ...(token === undefined ? {} : { token }),
      })
      return client
    },
    out: stdoutOut(args.flags.has("json")),
    note: (line) => process.stderr.write(`${line}\n`),
    isTty: process.stderr.isTTY === true,
  }
}

/** What is running, so an error can be explained with that command's usage. */
interface Running { command?: Command; args?: Parsed }

export const buildProgram = (commands: ReadonlyArray<Command>, running: Running = {}): Commander => {
  const program = new Commander("ironledger")
    .description("ironledger: bare-metal provisioning. `serve` runs the service; the other commands talk to its API (--url, default $IRONLEDGER_URL or http://127.0.0.1:6385), or read the log directly with --db.")
    .usage("COMMAND [options]")
    .exitOverride()
    .configureHelp({ showGlobalOptions: true, subcommandTerm: (cmd) => cmd.name() })
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(`ironledger: ${s.replace(/^error: /, "")}`),
    })
    .addOption(new Option("--url <URL>", "the ironledger API (default $IRONLEDGER_URL or http://127.0.0.1:6385)"))
    .addOption(new Option("--json", "output for scripts: JSON on stdout (progress stays on stderr)"))
    .addOption(new Option("--token-file <FILE>", "a file holding the API token (default $IRONLEDGER_TOKEN)"))
  for (const c of commands) {
    let parent = program
    for (const word of c.words.slice(0, -1)) {
      parent = parent.commands.find((s) => s.name() === word)
        ?? parent.command(word).description(groupDescriptions[word] ?? `The ${word} commands.`)
    }
    const name = c.words[c.words.length - 1]!
    const leaf = parent.command(name)
      .description(c.description ?? "")
      .summary(firstSentence(c.description ?? ""))
      .usage(c.usage.startsWith(c.words.join(" ")) ? c.usage.slice(c.words.join(" ").length).trim() : c.usage)
      .argument("[args...]")
      .addHelpText("after", examplesText(c.examples ?? []))
    declareOptions(leaf, c.options, c.usage)
    leaf.action(async (positionals: Array<string>, _options: unknown, self: Commander) => {
      const own = parsedOf(self, c.options, positionals)
      const global = parsedOf(program, globalSpec, [])
      const args: Parsed = {
        ...own,
        strings: { ...global.strings, ...own.strings },
        flags: new Set([...global.flags, ...own.flags]),
      }
      running.command = c
      running.args = args
      await c.run(args, envOf(args))
    })
  }
  return program
}

/** A reader that went away (`| head`) has what it wanted: stop quietly, never with a stack trace. */
let pipesWatched = false
const quietOnClosedPipe = () => {
  if (pipesWatched) return
  pipesWatched = true
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0)
      throw e
    })
  }
}

export const runCli = async (commands: ReadonlyArray<Command>, argv: ReadonlyArray<string>): Promise<number> => {
  quietOnClosedPipe()
  const running: Running = {}
  const program = buildProgram(commands, running)
  if (argv.length === 0) {
    program.outputHelp()
    return 0
  }
  try {
    await program.parseAsync([...argv], { from: "user" })
    return 0
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2
    const command = running.command
    if (e instanceof UsageError) {
      process.stderr.write(`ironledger: ${e.message}\n` +
        (command === undefined ? "" : `usage: ironledger ${command.usage}\n(ironledger ${command.words.join(" ")} --help shows more)\n`))
      return 2
    }
    const message = (e as Error)?.message ?? String(e)
    const args = running.args
    const said = e instanceof ApiError && args !== undefined ? await nameNodesAsTyped(message, args, envOf(args)) : message
    process.stderr.write(`ironledger: ${said}\n`)
    return 1
  }
}
