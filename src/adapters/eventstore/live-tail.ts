// subscribeAll for stores we read page by page (memory, SQLite): catch up from the log, then wait
// for the next append. Pull-based, so a slow subscriber never buffers the whole log, and
// interruption only has to cancel one wait.
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { StoreUnavailable, StoredEvent } from "../../ports/event-store.ts"

/** Wakes subscribers of one store when an append in this process commits. */
export interface AppendSignal {
  /** Bumped by every `notify`; a subscriber compares it to what it saw before reading. */
  readonly generation: () => number
  readonly notify: () => void
  /**
   * Completes as soon as the generation moves past `seen`, or after `timeoutMs` when given
   * (the poll for appends made by other processes). Interruption removes the waiter and timer.
   */
  readonly waitPast: (seen: number, timeoutMs: number | undefined) => Effect.Effect<void>
}

export const makeAppendSignal = (): AppendSignal => {
  let generation = 0
  const waiters = new Set<() => void>()
  return {
    generation: () => generation,
    notify: () => {
      generation++
      const woken = [...waiters]
      waiters.clear()
      for (const wake of woken) wake()
    },
    waitPast: (seen, timeoutMs) =>
      Effect.callback<void>((resume) => {
        if (generation !== seen) {
          resume(Effect.void)
          return
        }
        let timer: ReturnType<typeof setTimeout> | undefined
        const wake = () => {
          if (timer !== undefined) clearTimeout(timer)
          waiters.delete(wake)
          resume(Effect.void)
        }
        waiters.add(wake)
        if (timeoutMs !== undefined) timer = setTimeout(wake, timeoutMs)
        return Effect.sync(() => {
          if (timer !== undefined) clearTimeout(timer)
          waiters.delete(wake)
        })
      }),
  }
}

export interface TailOptions {
  /** Events with a position strictly greater than this; -1 for the whole log. */
  readonly after: number
  /** Up to one page of events after the given position, in global order. */
  readonly readPage: (after: number) => Effect.Effect<ReadonlyArray<StoredEvent>, StoreUnavailable>
  readonly signal: AppendSignal
  /** How often to look for appends this process was not told about; undefined: never. */
  readonly pollIntervalMs: number | undefined
}

export const tailAll = (options: TailOptions): Stream.Stream<StoredEvent, StoreUnavailable> =>
  Stream.paginate(options.after, (after) =>
    Effect.gen(function* () {
      // Read the generation before the page: an append landing between the read and the wait
      // then ends the wait at once instead of being missed.
      const seen = options.signal.generation()
      const page = yield* options.readPage(after)
      if (page.length > 0) return [page, Option.some(page[page.length - 1]!.position)] as const
      yield* options.signal.waitPast(seen, options.pollIntervalMs)
      return [page, Option.some(after)] as const
    }))
