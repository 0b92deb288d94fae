// Refused ramdisk call-backs, recorded without flooding a node's history (ADR 0033): per node,
// the first refusal of a window is recorded at once, the others of the window are counted and
// recorded as one event (count, sources) when the window closes.

export interface RefusalSummary {
  readonly reason: string
  readonly count: number
  readonly sources: ReadonlyArray<string>
}

/** At most this many distinct sources are named in a summary. */
const maxSources = 16

export const makeRefusalWindows = (windowMs: number, recordSummary: (nodeId: string, summary: RefusalSummary) => void) => {
  const open = new Map<string, { count: number; reason: string; readonly sources: Set<string>; readonly timer: ReturnType<typeof setTimeout> }>()
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
      const timer = setTimeout(() => {
        const closing = open.get(nodeId)
        open.delete(nodeId)
        if (closing !== undefined && closing.count > 0) {
          recordSummary(nodeId, { reason: closing.reason, count: closing.count, sources: [...closing.sources] })
        }
      }, windowMs)
      // A pending summary never keeps the process alive.
      timer.unref()
      open.set(nodeId, { count: 0, reason, sources: new Set(), timer })
      return true
    },
    /** Stops the timers; counts not yet recorded are dropped. */
    close: () => {
      for (const window of open.values()) clearTimeout(window.timer)
      open.clear()
    },
  }
}
