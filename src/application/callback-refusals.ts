// Refused ramdisk call-backs, recorded without flooding a node's history (ADR 0033): per node,
// the first refusal of a window is recorded at once, the others of the window are counted and
// recorded as one event (count, sources) when the window closes.
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"

export interface RefusalSummary {
  readonly reason: string
  readonly count: number
  readonly sources: ReadonlyArray<string>
}

/** At most this many distinct sources are named in a summary. */
const maxSources = 16

/**
 * `recordSummary` is the Effect that records a closing window's summary; windows are timed on the
 * service's Clock (fibers forked with `fork`), so tests can move time instead of waiting for it.
 */
export const makeRefusalWindows = (
  windowMs: number,
  recordSummary: (nodeId: string, summary: RefusalSummary) => Effect.Effect<void>,
  fork: (effect: Effect.Effect<void>) => Fiber.Fiber<void>,
) => {
  const open = new Map<string, { count: number; reason: string; readonly sources: Set<string>; readonly closer: Fiber.Fiber<void> }>()
  const closeWindow = (nodeId: string) => Effect.suspend(() => {
    const closing = open.get(nodeId)
    open.delete(nodeId)
    return closing !== undefined && closing.count > 0
      ? recordSummary(nodeId, { reason: closing.reason, count: closing.count, sources: [...closing.sources] })
      : Effect.void
  })
  return {
    /** True when this refusal opens a window (record it now); false when it was counted for the summary. */
    note: (nodeId: string, reason: string, source: string): boolean => {
      const window = open.get(nodeId)
      if (window !== undefined) {
        window.count++
        window.reason = reason
        if (window.sources.size < maxSources) window.sources.add(source)
        return false
      }
      // Registered before the fiber starts: a zero-length window must find its entry.
      const entry = { count: 0, reason, sources: new Set<string>(), closer: undefined as unknown as Fiber.Fiber<void> }
      open.set(nodeId, entry)
      entry.closer = fork(Effect.andThen(Effect.sleep(windowMs), closeWindow(nodeId)))
      return true
    },
    /** Stops the windows; counts not yet recorded are dropped. */
    close: Effect.suspend(() => {
      const closers = [...open.values()].map((w) => w.closer)
      open.clear()
      return Effect.forEach(closers, Fiber.interrupt, { discard: true })
    }),
  }
}
