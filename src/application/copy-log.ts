// Copying a whole log from one EventStore to another (SQLite to PostgreSQL, or back), then proving
// the copy: every event equal, in the same order. Stream revisions are kept exactly, each append
// made at the revision before it, so the target refuses anything that would not line up; runs of one
// stream's consecutive events go in one append. A copy that stopped half-way is carried on: the
// target may hold a prefix of the source, which is checked before anything is added.
import { isDeepStrictEqual } from "node:util"
import * as Effect from "effect/Effect"
import type { EventStore, StoreUnavailable, StoredEvent, WrongExpectedRevision } from "../ports/event-store.ts"

type Store = EventStore["Service"]

const PAGE = 5000

export interface CopyReport {
  /** Events the target held already (a copy carried on), then those added now. */
  readonly alreadyThere: number
  readonly copied: number
  readonly verified: number
  readonly seconds: number
}

export class CopyMismatch extends Error {}

const same = (a: StoredEvent, b: StoredEvent) =>
  a.streamId === b.streamId && a.revision === b.revision && a.type === b.type && a.schemaVersion === b.schemaVersion &&
  isDeepStrictEqual(a.data, b.data) && isDeepStrictEqual(a.meta, b.meta)

const describe = (e: StoredEvent | undefined) => (e === undefined ? "nothing" : `${e.streamId}@${e.revision} ${e.type}`)

/** Walks both logs from the start, page by page, calling `each` on pairs until one side ends. */
const walkBoth = (source: Store, target: Store, each: (s: StoredEvent | undefined, t: StoredEvent | undefined, index: number) => boolean) =>
  Effect.gen(function* () {
    let afterSource = -1, afterTarget = -1, index = 0
    for (;;) {
      const [s, t] = yield* Effect.all([source.readAll({ after: afterSource, limit: PAGE }), target.readAll({ after: afterTarget, limit: PAGE })])
      const n = Math.max(s.length, t.length)
      for (let i = 0; i < n; i++) {
        // Pages of the two sides stay aligned because both read PAGE events until one side ends.
        if (!each(s[i], t[i], index++)) return index - 1
      }
      if (s.length < PAGE || t.length < PAGE) return index
      afterSource = s[s.length - 1]!.position
      afterTarget = t[t.length - 1]!.position
    }
  })

/**
 * Every event of `target` equals `source`'s, in order, and nothing is missing or extra. `upTo`: the
 * source's last position that was copied; events a live source appended after it are not the copy's.
 */
export const verifyCopy = (source: Store, target: Store, upTo = Number.POSITIVE_INFINITY): Effect.Effect<number, StoreUnavailable | CopyMismatch> =>
  Effect.flatMap(
    walkBoth(source, target, (s, t) => s !== undefined && s.position <= upTo && t !== undefined && same(s, t)),
    (count) => Effect.gen(function* () {
      // Stopped early: tell which event differs.
      const [next, t] = yield* Effect.all([readNth(source, count), readNth(target, count)])
      const s = next !== undefined && next.position > upTo ? undefined : next
      if (s === undefined && t === undefined) return count
      return yield* Effect.fail(new CopyMismatch(`event ${count + 1} differs: source has ${describe(s)}, copy has ${describe(t)}`))
    }),
  )

const readNth = (store: Store, index: number) =>
  Effect.gen(function* () {
    let after = -1, seen = 0
    for (;;) {
      const page = yield* store.readAll({ after, limit: PAGE })
      if (index < seen + page.length) return page[index - seen]
      if (page.length < PAGE) return undefined
      seen += page.length
      after = page[page.length - 1]!.position
    }
  })

/** Copies what `target` lacks of `source`, then verifies the whole copy. */
export const copyLog = (source: Store, target: Store, progress: (copied: number) => void = () => {}) =>
  Effect.gen(function* () {
    const started = performance.now()
    // The target must be empty or hold exactly the source's first events.
    let prefix = 0
    let prefixEnd = -1 // position in the source of the last event already in the target
    let mismatch: string | undefined
    yield* walkBoth(source, target, (s, t) => {
      if (t === undefined) return false
      if (s === undefined || !same(s, t)) {
        mismatch = `the target already holds other events (event ${prefix + 1}: ${describe(t)}, the source has ${describe(s)})`
        return false
      }
      prefix++
      prefixEnd = s.position
      return true
    })
    if (mismatch !== undefined) return yield* Effect.fail(new CopyMismatch(mismatch))

    let copied = 0
    let after = prefixEnd
    let last = prefixEnd
    for (;;) {
      const page = yield* source.readAll({ after, limit: PAGE })
      for (let i = 0; i < page.length;) {
        // One append per run of one stream's consecutive events.
        let j = i + 1
        while (j < page.length && page[j]!.streamId === page[i]!.streamId) j++
        const run = page.slice(i, j)
        const first = run[0]!
        yield* target.append(first.streamId, run.map(({ type, schemaVersion, data, meta }) => ({ type, schemaVersion, data, meta })),
          first.revision === 0 ? "no_stream" : first.revision - 1).pipe(
          Effect.mapError((e: WrongExpectedRevision | StoreUnavailable) =>
            e._tag === "WrongExpectedRevision" ? new CopyMismatch(`the target's stream ${first.streamId} does not line up: ${e.message}`) : e),
        )
        copied += run.length
        i = j
      }
      if (page.length > 0) { progress(copied); last = page[page.length - 1]!.position }
      if (page.length < PAGE) break
      after = page[page.length - 1]!.position
    }
    const verified = yield* verifyCopy(source, target, last)
    const report: CopyReport = { alreadyThere: prefix, copied, verified, seconds: (performance.now() - started) / 1000 }
    return report
  })
