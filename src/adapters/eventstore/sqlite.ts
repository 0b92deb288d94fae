// The embedded default EventStore (+ CheckpointStore): one SQLite file through node:sqlite, in WAL
// mode, shareable by several conductor processes. See ADR 0003 for the choices made here.
import { availableParallelism } from "node:os"
import type { DatabaseSync, SQLOutputValue, StatementSync } from "node:sqlite"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { CheckpointStore } from "../../ports/checkpoint-store.ts"
import { EventStore, streamOrderPage, type StoreUnavailable, type StoredEvent } from "../../ports/event-store.ts"
import { assertWellFormedAppend } from "./append-rules.ts"
import { makeGroupCommit } from "./group-commit.ts"
import { background } from "../system/background.ts"
import { makeAppendSignal, tailAll } from "./live-tail.ts"
import { makeRecentAppends } from "./recent-appends.ts"
import { makeSqliteCheckpoints } from "./sqlite-checkpoints.ts"
import { appendRequest, makeGroupWriter, unavailable, type AppendOutcome, type AppendRequest } from "./sqlite-append.ts"
import { openEventStoreDatabase, streamOrderRows } from "./sqlite-schema.ts"
import { startReadAhead, type ReadAhead } from "./sqlite-read-ahead.ts"

export interface SqliteStoreOptions {
  /** How often a live subscription looks for appends made by other processes. Default 100 ms. */
  readonly pollIntervalMs?: number
  /** How long a writer waits for another process's write transaction. Default 5 s. */
  readonly busyTimeoutMs?: number
  /** How many of this process's latest appended events its subscribers are served from memory. Default 2048. */
  readonly recentAppends?: number
  /** Events per read while a subscription catches up. Default 1000. */
  readonly pageSize?: number
  /** Group commit bounds: at most this many appends per transaction. Default 256. */
  readonly maxGroupAppends?: number
  /** ...and at most this many events (an append with more forms a group of its own). Default 4096. */
  readonly maxGroupEvents?: number
  /**
   * A read by stream from the log's start, up to a head of at least this position, is read ahead on a
   * worker thread (ADR 0208). Default 200,000 where the process may run on more than one core, else never.
   */
  readonly readAheadFrom?: number
}

/** A log shorter than this is read by stream on the one thread: the worker's start (~90 ms) costs what it would save. */
const defaultReadAheadFrom = availableParallelism() > 1 ? 200_000 : Infinity
/** Pages the read ahead's worker reads before they are taken: about 2 MB of text at 500 events a page. */
const pagesAhead = 16

const COLUMNS = "position, stream_id, revision, type, schema_version, data, meta, hash"

/** Rows come back as arrays (cheaper than objects at 250k events/s), in COLUMNS order. */
const toStoredEvent = (row: ReadonlyArray<SQLOutputValue>): StoredEvent => ({
  position: row[0] as number,
  streamId: row[1] as string,
  revision: row[2] as number,
  type: row[3] as string,
  schemaVersion: row[4] as number,
  data: JSON.parse(row[5] as string),
  meta: JSON.parse(row[6] as string),
  // Always present as a key (one object shape for every row); undefined before hashing began.
  hash: (row[7] ?? undefined) as string | undefined,
})

/**
 * The projection's read (ADR 0160, ADR 0186): COLUMNS without the hash, so each row is seven values
 * handed over instead of eight, and toStoredEvent leaves `hash` undefined. Joining data and meta in
 * SQLite for one JSON.parse per row was slower than two parses once measured side by side (ADR 0186).
 */
const UNHASHED = "position, stream_id, revision, type, schema_version, data, meta"

const readRows = (statement: StatementSync, ...params: Array<string | number>): Array<StoredEvent> => {
  const rows = statement.all(...params) as unknown as Array<ReadonlyArray<SQLOutputValue>>
  const events = new Array<StoredEvent>(rows.length)
  for (let i = 0; i < rows.length; i++) events[i] = toStoredEvent(rows[i]!)
  return events
}

const makeStores = (db: DatabaseSync, path: string, options: SqliteStoreOptions) => {
  const prepare = (sql: string) => {
    const statement = db.prepare(sql)
    statement.setReturnArrays(true)
    return statement
  }
  const selectStream = prepare(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision`)
  // LIMIT -1 is SQLite for "no limit".
  const selectAfter = prepare(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`)
  const selectAfterUnhashed = prepare(`SELECT ${UNHASHED} FROM events WHERE position > ? ORDER BY position LIMIT ?`)
  // The rebuild's read in stream order (ADR 0194), on this thread.
  const selectByStream = prepare(`SELECT ${UNHASHED} ${streamOrderRows}`)
  const selectCheckpoint = prepare("SELECT position, state FROM checkpoints WHERE projection = ?")
  const upsertCheckpoint = prepare(
    "INSERT INTO checkpoints (projection, position, state) VALUES (?, ?, ?) " +
      "ON CONFLICT (projection) DO UPDATE SET position = excluded.position, state = excluded.state",
  )
  // data_version changes only when another connection commits: asked per read, the last position
  // is looked up again only then (ADR 0150).
  const selectDataVersion = prepare("PRAGMA data_version")
  const selectHead = prepare("SELECT max(position) FROM events")
  const readHead = () => Number((selectHead.get() as unknown as readonly [number | null])[0] ?? -1)
  // Primed when the store opens: the file's head then counts as foreign, this process's appends never do.
  let seenDataVersion = (selectDataVersion.get() as unknown as readonly [number])[0]
  let foreignHead = readHead()
  const signal = makeAppendSignal()
  const pageSize = options.pageSize ?? 1000

  const writeGroup = makeGroupWriter(db, prepare)
  // The worker opens the file again: a database in memory (no location) is read on this thread.
  const file = db.location()
  const readAheadFrom = file === null ? Infinity : options.readAheadFrom ?? defaultReadAheadFrom
  /** The read by stream under way on a worker thread, if any: one at a time, the last one started. */
  let readAhead: ReadAhead | undefined
  let wrote = false
  const groups = makeGroupCommit<AppendRequest, AppendOutcome>({
    maxRequests: options.maxGroupAppends ?? 256,
    maxWeight: options.maxGroupEvents ?? 4096,
    weight: (request) => request.events.length,
    writeGroup: (requests) => {
      const outcomes = writeGroup(requests)
      outcomes.forEach((outcome, i) => {
        if (!("_tag" in outcome) && outcome.position !== -1) recent.remember(requests[i]!, outcome)
      })
      // Subscribers are woken once per group, after its COMMIT and after its callers are answered.
      wrote = outcomes.some((outcome) => !("_tag" in outcome) && outcome.position !== -1)
      return outcomes
    },
    afterGroup: () => {
      if (wrote) signal.notify()
      wrote = false
    },
    lane: background,
  })
  // Subscribers follow a few groups behind at most; a longer run is read back from the file (ADR 0157).
  const recent = makeRecentAppends(options.recentAppends ?? 2048)

  const readAfter = (after: number, limit: number) =>
    Effect.try({ try: () => readRows(selectAfter, after, limit), catch: unavailable("read all") })

  /** A subscriber's next page: from this process's own recent appends when they follow on without a gap. */
  const readPage = (after: number) => {
    const mine = recent.after(after, pageSize)
    return mine.length > 0 ? Effect.succeed(mine) : readAfter(after, pageSize)
  }

  const eventStore: EventStore["Service"] = {
    append: (streamId, events, expected) =>
      Effect.suspend(() => {
        // Bad input is a defect (thrown here, in the caller's fiber), not an unavailable store.
        assertWellFormedAppend(streamId, events, expected)
        return groups.submit(appendRequest(streamId, events, expected))
      }).pipe(Effect.flatMap((outcome) => ("_tag" in outcome ? Effect.fail(outcome) : Effect.succeed(outcome)))),
    readStream: (streamId, fromRevision = 0) =>
      Effect.try({ try: () => readRows(selectStream, streamId, fromRevision), catch: unavailable(`read ${streamId}`) }),
    readAll: (options) =>
      options?.hashes === false
        ? Effect.try({ try: () => readRows(selectAfterUnhashed, options.after ?? -1, options.limit ?? -1), catch: unavailable("read all") })
        : readAfter(options?.after ?? -1, options?.limit ?? -1),
    readByStream: (cursor, limit) =>
      Effect.suspend(() => {
        if (cursor !== null && readAhead?.continues(cursor, limit)) return readAhead.next
        readAhead?.close()
        readAhead = undefined
        return Effect.try({
          try: () => {
            const upTo = cursor?.upTo ?? readHead()
            if (cursor !== null || upTo < readAheadFrom) {
              return Effect.succeed(streamOrderPage(readRows(selectByStream, cursor?.streamId ?? "", cursor?.revision ?? -1, upTo, limit), upTo, limit))
            }
            readAhead = startReadAhead({ path: file!, upTo, limit, pagesAhead, busyTimeoutMs: options.busyTimeoutMs ?? 5000 })
            return readAhead.next
          },
          catch: unavailable("read the log by stream"),
        }).pipe(Effect.flatten)
      }),
    foreignHead: () => {
      try {
        const version = (selectDataVersion.get() as unknown as readonly [number])[0]
        if (version !== seenDataVersion) {
          // A commit landing between the two reads moves data_version again: the next ask re-reads.
          seenDataVersion = version
          foreignHead = readHead()
        }
        return Exit.succeed(foreignHead)
      } catch (e) {
        return Exit.fail(unavailable("read the log's head")(e))
      }
    },
    subscribeAll: (after = -1) =>
      tailAll({
        after,
        readPage,
        signal,
        pollIntervalMs: options.pollIntervalMs ?? 100,
      }),
  }

  const checkpointStore = makeSqliteCheckpoints(path, { select: selectCheckpoint, upsert: upsertCheckpoint })

  const close = () => {
    groups.drain()
    readAhead?.close()
  }
  return { eventStore, checkpointStore, close }
}

/**
 * EventStore and CheckpointStore on the SQLite file at `path` (created if missing). The
 * connection is closed when the layer's scope ends.
 */
export const makeSqliteEventStore = (
  path: string,
  options: SqliteStoreOptions = {},
): Layer.Layer<EventStore | CheckpointStore, StoreUnavailable> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const db = yield* Effect.acquireRelease(
        Effect.try({
          try: () => openEventStoreDatabase(path, options.busyTimeoutMs ?? 5000),
          catch: unavailable(`open ${path}`),
        }),
        (db) => Effect.sync(() => db.close()),
      )
      const { eventStore, checkpointStore, close } = makeStores(db, path, options)
      // Appends still queued when the store closes are written first (released before the close),
      // and a read ahead still running is stopped.
      yield* Effect.addFinalizer(() => Effect.sync(close))
      return Context.make(EventStore, eventStore).pipe(Context.add(CheckpointStore, checkpointStore))
    }),
  )
