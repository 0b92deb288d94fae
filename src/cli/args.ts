// Command-line parsing, declared per command: which options exist and what they take. The
// declarations are handed to commander (ADR 0067), which does the parsing; `Parsed` is what a
// command reads back. Unknown options are errors (a typo must not be silently ignored).
import { Command as Commander, CommanderError, InvalidArgumentError, Option } from "commander"

export type OptionKind =
  | "string" // --name VALUE or --name=VALUE
  | "list" // repeatable --name VALUE
  | "flag" // --name
  | "optional-number" // --wait or --wait 600

export type OptionSpec = Readonly<Record<string, OptionKind>>

export interface Parsed {
  readonly positionals: ReadonlyArray<string>
  readonly strings: Readonly<Record<string, string>>
  readonly lists: Readonly<Record<string, ReadonlyArray<string>>>
  readonly flags: ReadonlySet<string>
  /** Options of kind optional-number: null when given without a number. */
  readonly numbers: Readonly<Record<string, number | null>>
}

export class UsageError extends Error {}

const seconds = /^\d+(\.\d+)?$/

/** The value's name in help, taken from the command's usage line ("--driver TYPE" shows <TYPE>). */
const metavar = (usage: string, name: string): string => {
  const m = new RegExp(`--${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[ =]\\[?([^\\s\\]]+)`).exec(usage)
  return m?.[1] ?? "VALUE"
}

/** Declares `spec` on a commander command; "help" is commander's own. */
export const declareOptions = (cmd: Commander, spec: OptionSpec, usage = ""): void => {
  for (const [name, kind] of Object.entries(spec)) {
    if (name === "help") continue
    const value = metavar(usage, name)
    switch (kind) {
      case "flag":
        cmd.addOption(new Option(`--${name}`))
        break
      case "string":
        cmd.addOption(new Option(`--${name} <${value}>`))
        break
      case "list":
        cmd.addOption(new Option(`--${name} <${value}>`, "repeatable")
          .argParser((v: string, previous: Array<string> | undefined) => [...(previous ?? []), v]))
        break
      case "optional-number":
        cmd.addOption(new Option(`--${name} [SECONDS]`).argParser((v: string) => {
          if (!seconds.test(v)) throw new InvalidArgumentError("it takes a number of seconds (put NODE before it, or write --wait=SECONDS)")
          return Number(v)
        }))
        break
    }
  }
}

/** What the user gave on the command line for the options of `spec` (defaults are not "given"). */
export const parsedOf = (cmd: Commander, spec: OptionSpec, positionals: ReadonlyArray<string>): Parsed => {
  const strings: Record<string, string> = {}
  const lists: Record<string, ReadonlyArray<string>> = {}
  const flags = new Set<string>()
  const numbers: Record<string, number | null> = {}
  for (const option of cmd.options) {
    const name = option.long?.slice(2)
    const kind = name === undefined ? undefined : spec[name]
    if (name === undefined || kind === undefined) continue
    const key = option.attributeName()
    if (cmd.getOptionValueSource(key) !== "cli") continue
    const v: unknown = cmd.getOptionValue(key)
    switch (kind) {
      case "flag": flags.add(name); break
      case "string": strings[name] = String(v); break
      case "list": lists[name] = v as ReadonlyArray<string>; break
      case "optional-number": numbers[name] = v === true ? null : Number(v); break
    }
  }
  return { positionals, strings, lists, flags, numbers }
}

/** Parses `argv` (no command words) against `spec` alone: a UsageError on anything it does not declare. */
export const parseArgs = (argv: ReadonlyArray<string>, spec: OptionSpec): Parsed => {
  const cmd = new Commander().exitOverride().helpOption(false).argument("[args...]")
    .configureOutput({ writeOut: () => {}, writeErr: () => {} })
  declareOptions(cmd, spec)
  if ("help" in spec) cmd.addOption(new Option("--help"))
  try {
    cmd.parse([...argv], { from: "user" })
  } catch (e) {
    if (e instanceof CommanderError) throw new UsageError(e.message.replace(/^error: /, ""))
    throw e
  }
  const parsed = parsedOf(cmd, spec, cmd.processedArgs[0] as Array<string>)
  if (cmd.getOptionValueSource("help") === "cli") return { ...parsed, flags: new Set([...parsed.flags, "help"]) }
  return parsed
}

/** key=value pairs (repeatable options) into an object. */
export const keyValues = (pairs: ReadonlyArray<string>, option: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf("=")
    if (eq <= 0) throw new UsageError(`--${option} takes KEY=VALUE, got "${pair}"`)
    out[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return out
}
