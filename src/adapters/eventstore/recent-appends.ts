// The latest events this process appended, as stored events, so that its own subscribers (the
// projections following the log) need not read back and parse what it has just written. Only an
// unbroken run of positions is served: where another process's events sit in between, or the run
// is older than what is kept, the subscriber reads the file as usual.
import type { AppendResult, StoredEvent } from "../../ports/event-store.ts"
import type { AppendRequest } from "./sqlite-append.ts"

export const makeRecentAppends = (keep: number) => {
  let events: Array<StoredEvent> = []
  return {
    /** Called after COMMIT: an append's events take consecutive positions ending at result.position. */
    remember: (request: AppendRequest, result: AppendResult): void => {
      const n = request.source.length
      request.source.forEach((e, i) => {
        events.push({
          streamId: request.streamId,
          revision: result.nextExpectedRevision - (n - 1 - i),
          position: result.position - (n - 1 - i),
          type: e.type, schemaVersion: e.schemaVersion,
          // The appended objects themselves: events are immutable once written.
          data: e.data, meta: e.meta,
          hash: request.hashes[i]!,
        })
      })
      if (events.length > 2 * keep) events = events.slice(-keep)
    },
    /** Up to `limit` events at positions after+1, after+2, ...; empty when that run is not here. */
    after: (after: number, limit: number): ReadonlyArray<StoredEvent> => {
      let lo = 0, hi = events.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (events[mid]!.position <= after) lo = mid + 1
        else hi = mid
      }
      const run: Array<StoredEvent> = []
      for (let i = lo, expect = after + 1; i < events.length && run.length < limit && events[i]!.position === expect; i++, expect++) {
        run.push(events[i]!)
      }
      return run
    },
  }
}
