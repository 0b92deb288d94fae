// Which history entries an auditor asked for: a time window, event types, an actor, and whether
// to show unauthenticated noise (refused ramdisk call-backs and their summaries, ADR 0033).
import type { HistoryEntry } from "./node-service.ts"

export interface HistoryFilter {
  /** ISO 8601 instants, inclusive. */
  readonly since?: string
  readonly until?: string
  /** Event types (any of them). */
  readonly types?: ReadonlyArray<string>
  readonly actor?: string
  readonly hideNoise?: boolean
}

/** Events nobody authenticated caused: refused call-backs, one by one or counted. */
export const noiseEvents: ReadonlySet<string> = new Set(["CallbackRejected", "CallbacksRefused"])

export const historyMatcher = (filter: HistoryFilter | undefined): ((entry: HistoryEntry) => boolean) => {
  if (filter === undefined) return () => true
  const since = filter.since === undefined ? -Infinity : Date.parse(filter.since)
  const until = filter.until === undefined ? Infinity : Date.parse(filter.until)
  const types = filter.types === undefined || filter.types.length === 0 ? undefined : new Set(filter.types)
  return (e) => {
    const at = Date.parse(e.occurredAt)
    return at >= since && at <= until &&
      (types === undefined || types.has(e.event)) &&
      (filter.actor === undefined || e.actor === filter.actor) &&
      !(filter.hideNoise === true && noiseEvents.has(e.event))
  }
}
