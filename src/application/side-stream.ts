// A stream of the log that belongs to no node (failed allocations, deploy templates): its events
// are folded into a small state this process keeps caught up with the store, and written with the
// stream's expected revision, so two writers (requests or processes) are ordered by the append and
// a decision always rests on the log as it is. The fleet projection skips these streams.
import * as Effect from "effect/Effect"
import * as Semaphore from "effect/Semaphore"
import * as t from "io-ts"
import * as E from "fp-ts/lib/Either.js"
import { EventStore, type StoreUnavailable, type StoredMeta } from "../ports/index.ts"
import { Conflict } from "./node-service.ts"

export interface SideEvent<K extends string = string> {
  readonly type: K
  readonly data: unknown
}

export interface SideStream<S, Err> {
  /** The state with every event stored so far. */
  readonly current: Effect.Effect<S, StoreUnavailable, EventStore>
  /** Decides on the current state and appends; retried on a concurrent append. */
  readonly write: (decide: (s: S) => E.Either<Err, ReadonlyArray<SideEvent>>, meta: StoredMeta) =>
    Effect.Effect<S, Err | Conflict | StoreUnavailable, EventStore>
}

export const makeSideStream = <S, Err>(
  streamId: string,
  codecs: Readonly<Record<string, t.Mixed>>,
  initial: S,
  fold: (s: S, e: SideEvent, meta: StoredMeta) => S,
): SideStream<S, Err> => {
  let state = initial
  let revision = -1
  // One catch-up at a time folds each event once; one writer at a time in this process.
  const reading = Semaphore.makeUnsafe(1)
  const writing = Semaphore.makeUnsafe(1)
  const current = reading.withPermit(Effect.gen(function* () {
    const tail = yield* (yield* EventStore).readStream(streamId, revision + 1)
    for (const stored of tail) {
      const codec = codecs[stored.type]
      const decoded = codec === undefined ? E.left([]) : codec.decode(stored.data)
      // A stored event this build cannot read is a defect in the log or the build: fail loudly.
      if (E.isLeft(decoded)) throw new Error(`event ${stored.type} at ${streamId}@${stored.revision} is not readable`)
      state = fold(state, { type: stored.type, data: decoded.right }, stored.meta)
      revision = stored.revision
    }
    return state
  }))
  const write = (decide: (s: S) => E.Either<Err, ReadonlyArray<SideEvent>>, meta: StoredMeta) =>
    Effect.gen(function* () {
      for (let attempt = 1; attempt <= 8; attempt++) {
        const s = yield* current
        const decision = decide(s)
        if (E.isLeft(decision)) return yield* Effect.fail(decision.left)
        if (decision.right.length === 0) return s
        const appended = yield* (yield* EventStore).append(
          streamId,
          decision.right.map((e) => ({ type: e.type, schemaVersion: 1, data: codecs[e.type]!.encode(e.data), meta })),
          revision < 0 ? "no_stream" : revision,
        ).pipe(Effect.as(true), Effect.catchTag("WrongExpectedRevision", () => Effect.succeed(false)))
        if (appended) return yield* current
      }
      return yield* Effect.fail(new Conflict({ reason: `${streamId} is being changed by another writer; try again.` }))
    }).pipe(writing.withPermit)
  return { current, write }
}
