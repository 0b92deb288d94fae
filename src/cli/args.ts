// Command-line parsing, declared per command: which options exist and what they take.
// Unknown options are errors (a typo must not be silently ignored).

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

export const parseArgs = (argv: ReadonlyArray<string>, spec: OptionSpec): Parsed => {
  const positionals: Array<string> = []
  const strings: Record<string, string> = {}
  const lists: Record<string, Array<string>> = {}
  const flags = new Set<string>()
  const numbers: Record<string, number | null> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--") { positionals.push(...argv.slice(i + 1)); break }
    if (!arg.startsWith("--") || arg === "-") { positionals.push(arg); continue }
    const eq = arg.indexOf("=")
    const name = arg.slice(2, eq < 0 ? undefined : eq)
    const inline = eq < 0 ? undefined : arg.slice(eq + 1)
    const kind = spec[name]
    if (kind === undefined) throw new UsageError(`unknown option --${name}`)
    const value = (): string => {
      if (inline !== undefined) return inline
      const next = argv[i + 1]
      if (next === undefined) throw new UsageError(`--${name} needs a value`)
      i++
      return next
    }
    switch (kind) {
      case "flag":
        if (inline !== undefined) throw new UsageError(`--${name} takes no value`)
        flags.add(name)
        break
      case "string": strings[name] = value(); break
      case "list": (lists[name] ??= []).push(value()); break
      case "optional-number": {
        const raw = inline ?? (/^\d+(\.\d+)?$/.test(argv[i + 1] ?? "") ? argv[++i] : undefined)
        if (raw !== undefined && !/^\d+(\.\d+)?$/.test(raw)) throw new UsageError(`--${name} takes a number of seconds`)
        numbers[name] = raw === undefined ? null : Number(raw)
        break
      }
    }
  }
  return { positionals, strings, lists, flags, numbers }
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
