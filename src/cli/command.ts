// The shape of a CLI command and what it runs with.
import type { OptionSpec, Parsed } from "./args.ts"
import { UsageError } from "./args.ts"
import type { Client } from "./client.ts"
import type { Out } from "./output.ts"

export interface Env {
  /** Built on first use: offline commands never need the API. */
  readonly client: () => Client
  readonly out: Out
  /** Progress and notices: stderr, so --json output stays clean. */
  readonly note: (line: string) => void
  readonly isTty: boolean
}

export interface Command {
  /** Words that select it, e.g. ["node", "list"]. */
  readonly words: ReadonlyArray<string>
  readonly usage: string
  /** One or two sentences for `ironledger COMMAND --help` (a test requires it of every command). */
  readonly description?: string
  /** Command lines without the leading "ironledger", shown under --help (a test requires some). */
  readonly examples?: ReadonlyArray<string>
  readonly options: OptionSpec
  readonly run: (args: Parsed, env: Env) => Promise<void>
}

/** The common options every command takes. */
export const globalOptions: OptionSpec = { url: "string", json: "flag", "token-file": "string", help: "flag" }

export const positional = (args: Parsed, index: number, name: string): string => {
  const v = args.positionals[index]
  if (v === undefined) throw new UsageError(`missing ${name}`)
  return v
}

export const noMorePositionals = (args: Parsed, count: number) => {
  if (args.positionals.length > count) throw new UsageError(`unexpected argument "${args.positionals[count]}"`)
}
