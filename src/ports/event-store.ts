// EventStore port: one stream per node, optimistic concurrency on every append, a global order
// for projections. Adapters: memory, SQLite (embedded default), PostgreSQL, EventStoreDB.
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Stream from "effect/Stream"

/** Metadata stored beside each event; see ADR 0004 for why secrets never reach it. */
export interface StoredMeta {
  readonly occurredAt: string
  readonly actor: string
  readonly correlationId: string
  readonly causationId: string | null
  /** The instance the node carried when the event was recorded (ADR 0047); absent in older logs. */
  readonly instanceUuid?: string
}

export interface NewEvent {
  readonly type: string
  readonly schemaVersion: number
  /** JSON-serialisable event data. */
  readonly data: unknown
  readonly meta: StoredMeta
}

export interface StoredEvent extends NewEvent {
  readonly streamId: string
  /** 0 for a stream's first event, then +1 per event. */
  readonly revision: number
  /** Strictly increasing across all streams; gaps are allowed (EventStoreDB's positions have them). */
  readonly position: number
  /**
   * The stream hash (ADR 0030): chained to the previous event of the stream, computed by the
   * adapter at append time with application/hash-chain.ts. Absent on events stored before hashing began.
   */
  readonly hash?: string
}

/** "no_stream": the stream must not exist yet; a number: the revision of the stream's last event. */
export type ExpectedRevision = "any" | "no_stream" | number

export interface AppendResult {
  readonly nextExpectedRevision: number
  readonly position: number
}

export class WrongExpectedRevision extends Data.TaggedError("WrongExpectedRevision")<{
  readonly streamId: string
  readonly expected: ExpectedRevision
  readonly actual: number | "no_stream"
}> {
  override get message() {
    return `stream ${this.streamId}: expected revision ${this.expected}, actual ${this.actual}`
  }
}

export class StoreUnavailable extends Data.TaggedError("StoreUnavailable")<{
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return `event store unavailable: ${this.reason}`
  }
}

export interface ReadAllOptions {
  /** Events with a position strictly greater than this; -1 (the default) reads from the start. */
  readonly after?: number
  readonly limit?: number
  /**
   * false: the caller does not read the stream hashes (a projection folding the log), so a store may
   * leave `hash` undefined and save reading it (ADR 0160). Default true.
   */
  readonly hashes?: boolean
}

/**
 * Where a read of the log in stream order stopped (EventStore.readByStream): handed back for the next
 * page. `upTo` is the head the first page fixed; the rest is the last event read.
 */
export interface StreamOrderCursor {
  readonly upTo: number
  readonly streamId: string
  readonly revision: number
}

export interface StreamOrderPage {
  readonly events: ReadonlyArray<StoredEvent>
  /** Every event read has a position at most this, fixed by the first page: its head then, or (PostgreSQL) the horizon below which every transaction had ended. */
  readonly upTo: number
  /** The cursor for the next page; null when this page was the last. */
  readonly next: StreamOrderCursor | null
}

/** A page read in stream order, `limit` (at least 1) events asked for: a short page is the last. */
export const streamOrderPage = (events: ReadonlyArray<StoredEvent>, upTo: number, limit: number): StreamOrderPage => {
  const last = events[events.length - 1]
  return { events, upTo, next: last === undefined || events.length < limit ? null : { upTo, streamId: last.streamId, revision: last.revision } }
}

export class EventStore extends Context.Service<EventStore, {
  readonly append: (
    streamId: string,
    events: ReadonlyArray<NewEvent>,
    expected: ExpectedRevision,
  ) => Effect.Effect<AppendResult, WrongExpectedRevision | StoreUnavailable>
  /** The stream's events from `fromRevision` (default 0); empty when the stream does not exist. */
  readonly readStream: (
    streamId: string,
    fromRevision?: number,
  ) => Effect.Effect<ReadonlyArray<StoredEvent>, StoreUnavailable>
  readonly readAll: (options?: ReadAllOptions) => Effect.Effect<ReadonlyArray<StoredEvent>, StoreUnavailable>
  /**
   * The log from its start up to its head at the first page, stream by stream instead of in global
   * order: each stream's events together, by revision, `limit` to a page (the streams in an order of
   * the store's own). A projection built from nothing folds each node's whole history while its state
   * is young, instead of touching every node again with each round of events (ADR 0194). Events are
   * read as by readAll without hashes. What lands after the first page is left to a global read after
   * `upTo`. Absent where the store has no such read (EventStoreDB): the log is then read in global order.
   */
  readonly readByStream?: (cursor: StreamOrderCursor | null, limit: number) => Effect.Effect<StreamOrderPage, StoreUnavailable>
  /** Every event after `after` in global order: first those already stored, then live ones as they land. */
  readonly subscribeAll: (after?: number) => Stream.Stream<StoredEvent, StoreUnavailable>
  /**
   * The position of the latest event committed through any OTHER connection to the store (another
   * process), as known at this instant; this process's own appends need not move it. Cheap enough to
   * ask per API read: a projection whose position has reached it holds every other writer's events,
   * so a read can be served from it (ADR 0150). Absent where the store cannot tell it cheaply.
   * Answered at the call, as an Exit (itself an Effect): the API's reads use it without a fiber (ADR 0192).
   */
  readonly foreignHead?: () => Exit.Exit<number, StoreUnavailable>
}>()("ironledger/EventStore") {}
