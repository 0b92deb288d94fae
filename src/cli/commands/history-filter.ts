// The history filters on the command line, and the same as API query parameters.
import type { HistoryFilter } from "../../application/history-filter.ts"
import { UsageError, type OptionSpec, type Parsed } from "../args.ts"

export const historyFilterOptions: OptionSpec = {
  since: "string", until: "string", type: "list", actor: "string", "hide-noise": "flag",
}

const instant = (raw: string | undefined, name: string): string | undefined => {
  if (raw === undefined) return undefined
  if (Number.isNaN(Date.parse(raw))) throw new UsageError(`--${name} "${raw}" is not an ISO 8601 time`)
  return new Date(raw).toISOString()
}

export const historyFilterOfArgs = (args: Parsed): HistoryFilter => {
  const since = instant(args.strings["since"], "since")
  const until = instant(args.strings["until"], "until")
  const types = (args.lists["type"] ?? []).flatMap((t) => t.split(",")).filter((t) => t !== "")
  const actor = args.strings["actor"]
  return {
    ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }),
    ...(types.length === 0 ? {} : { types }), ...(actor === undefined ? {} : { actor }),
    hideNoise: args.flags.has("hide-noise"),
  }
}

export const historyQuery = (filter: HistoryFilter): URLSearchParams => {
  const q = new URLSearchParams()
  if (filter.since !== undefined) q.set("since", filter.since)
  if (filter.until !== undefined) q.set("until", filter.until)
  if (filter.types !== undefined) q.set("type", filter.types.join(","))
  if (filter.actor !== undefined) q.set("actor", filter.actor)
  if (filter.hideNoise === true) q.set("noise", "hide")
  return q
}
