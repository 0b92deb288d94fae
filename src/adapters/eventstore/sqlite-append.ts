// Writing a group of appends to the SQLite file in ONE transaction (one fsync), each append still
// checked against its own expected revision: a conflicting or failing append changes nothing and
// fails alone, the others of the group commit. See ADR 0003 (group commit).
import type { DatabaseSync, StatementSync } from "node:sqlite"
import {
  StoreUnavailable,
  type AppendResult,
  type ExpectedRevision,
  type NewEvent,
  type WrongExpectedRevision,
} from "../../ports/event-store.ts"
import { chainEventBody, eventBody, GENESIS, streamHead } from "../../application/hash-chain.ts"
import { emptyAppendResult, NO_STREAM_REVISION, revisionConflict, toJsonText } from "./append-rules.ts"

export const unavailable = (operation: string) => (cause: unknown) =>
  new StoreUnavailable({ reason: `${operation}: ${cause instanceof Error ? cause.message : String(cause)}`, cause })

/** The last field is the event's eventBody: all its stream hash needs besides the chain. */
type EncodedEvent = readonly [type: string, schemaVersion: number, data: string, meta: string, body: string]

export interface AppendRequest {
  readonly streamId: string
  readonly events: ReadonlyArray<EncodedEvent>
  readonly expected: ExpectedRevision
  /** The events as given, for this process's own subscribers once they are written. */
  readonly source: ReadonlyArray<NewEvent>
  /** The stream hashes given to the events, set when they are written. */
  hashes: ReadonlyArray<string>
}

export type AppendOutcome = AppendResult | WrongExpectedRevision | StoreUnavailable

/** Encodes in the caller's fiber, so a bad event is that caller's defect, never its group's. */
export const appendRequest = (streamId: string, events: ReadonlyArray<NewEvent>, expected: ExpectedRevision): AppendRequest => ({
  streamId,
  expected,
  source: events,
  hashes: [],
  events: events.map((event): EncodedEvent => {
    const data = toJsonText(event.data, `data of ${event.type} in ${streamId}`)
    const meta = toJsonText(event.meta, `meta of ${event.type} in ${streamId}`)
    // Hashed as it will be read back: parsed from the stored text.
    const body = eventBody({ streamId, type: event.type, schemaVersion: event.schemaVersion, data: JSON.parse(data), meta: JSON.parse(meta) })
    return [event.type, event.schemaVersion, data, meta, body]
  }),
})

/** Thrown out of one append when its savepoint cannot be undone: the whole group must roll back. */
class GroupBroken extends Error {}

export const makeGroupWriter = (db: DatabaseSync, prepare: (sql: string) => StatementSync) => {
  const lastRevision = prepare("SELECT revision, hash FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1")
  const wholeStream = prepare("SELECT revision, type, schema_version, data, meta, hash FROM events WHERE stream_id = ? ORDER BY revision")
  const insertEvent = prepare(
    "INSERT INTO events (stream_id, revision, type, schema_version, data, meta, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
  )

  /** The chain value to extend: the last event's hash, or for events from before hashing, computed. */
  const headOf = (streamId: string, lastHash: string | null): string => {
    if (lastHash !== null) return lastHash
    const rows = wholeStream.all(streamId) as unknown as Array<readonly [number, string, number, string, string, string | null]>
    return streamHead(rows.map(([revision, type, schemaVersion, data, meta, hash]) => ({
      streamId, revision, type, schemaVersion, data: JSON.parse(data), meta: JSON.parse(meta), ...(hash === null ? {} : { hash }),
    })))
  }
  const savepoint = prepare("SAVEPOINT append")
  const rollbackToSavepoint = prepare("ROLLBACK TO append")
  const releaseSavepoint = prepare("RELEASE append")

  /** After a failure, the failure is what gets reported, not a ROLLBACK's own error. */
  const rollbackQuietly = () => {
    try {
      if (db.isTransaction) db.exec("ROLLBACK")
    } catch {
      // Nothing more to undo: SQLite rolls back what it cannot commit.
    }
  }

  /** One append inside the group's transaction; it sees the appends before it in the group. */
  const applyOne = (request: AppendRequest): AppendResult | WrongExpectedRevision => {
    const { streamId, events, expected } = request
    const row = lastRevision.get(streamId) as unknown as readonly [number, string | null] | undefined
    const current = row === undefined ? NO_STREAM_REVISION : row[0]
    const conflict = revisionConflict(streamId, expected, current)
    if (conflict !== undefined) return conflict
    if (events.length === 0) return emptyAppendResult(current)
    // A savepoint per append: an insert failing half-way through its events undoes only them.
    savepoint.run()
    try {
      let position = 0
      let head = row === undefined ? GENESIS : headOf(streamId, row[1])
      const hashes: Array<string> = []
      for (let i = 0; i < events.length; i++) {
        const [type, schemaVersion, data, meta, body] = events[i]!
        head = chainEventBody(head, current + 1 + i, body)
        hashes.push(head)
        position = Number(insertEvent.run(streamId, current + 1 + i, type, schemaVersion, data, meta, head).lastInsertRowid)
      }
      releaseSavepoint.run()
      request.hashes = hashes
      return { nextExpectedRevision: current + events.length, position }
    } catch (error) {
      try {
        rollbackToSavepoint.run()
        releaseSavepoint.run()
      } catch {
        throw new GroupBroken("could not undo a failed append", { cause: error })
      }
      throw error
    }
  }

  /**
   * Writes the group in one transaction and returns each append's outcome, in order. Only
   * successful outcomes are durable, and only because COMMIT returned (synchronous = FULL).
   */
  const writeGroup = (requests: ReadonlyArray<AppendRequest>): Array<AppendOutcome> => {
    const allFail = (operation: string, cause: unknown) =>
      requests.map((request) => unavailable(`${operation} (append to ${request.streamId})`)(cause))
    try {
      // IMMEDIATE takes the write lock before any revision is read, so no other process can
      // append between a check and its insert (a DEFERRED read would not hold it); busy_timeout
      // makes it wait for another process's transaction instead of failing at once.
      db.exec("BEGIN IMMEDIATE")
    } catch (error) {
      return allFail("begin", error)
    }
    const outcomes: Array<AppendOutcome> = []
    for (const request of requests) {
      try {
        outcomes.push(applyOne(request))
      } catch (error) {
        // SQLite may have rolled the whole transaction back (disk full, I/O error): then the
        // group's earlier appends are gone too, and none of it may be reported as written.
        if (error instanceof GroupBroken || !db.isTransaction) {
          rollbackQuietly()
          return allFail("append group rolled back", error instanceof GroupBroken ? error.cause : error)
        }
        outcomes.push(unavailable(`append to ${request.streamId}`)(error))
      }
    }
    try {
      db.exec("COMMIT")
    } catch (error) {
      rollbackQuietly()
      return allFail("commit", error)
    }
    return outcomes
  }

  return writeGroup
}
