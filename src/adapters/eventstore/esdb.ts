// EventStore port on EventStoreDB (gRPC client @eventstore/db-client), the alternative to the
// embedded SQLite store when a team already runs an EventStoreDB cluster. See ADR 0003.
import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  excludeSystemEvents,
  jsonEvent,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type JSONType,
  type Position,
  type ReadPosition,
  type ResolvedEvent,
} from "@eventstore/db-client"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import {
  EventStore,
  StoreUnavailable,
  WrongExpectedRevision,
  type ExpectedRevision,
  type NewEvent,
  type StoredEvent,
  type StoredMeta,
} from "../../ports/event-store.ts"
import { chainEventBody, eventBody, GENESIS, streamHead } from "../../application/hash-chain.ts"
import { assertWellFormedAppend, emptyAppendResult, NO_STREAM_REVISION, revisionConflict, toJsonText } from "./append-rules.ts"

// Positions: for events appended in one call (an implicit transaction, the only kind the gRPC API
// writes) EventStoreDB gives each event its own log position, with commit == prepare. That number
// is strictly increasing along $all, so it is the port's position as is; as a JS number it is
// exact up to 2^53 bytes of log (9 PB). Reading "after p" starts at {commit: p, prepare: p}, which
// EventStoreDB treats as inclusive, so the event at p itself is dropped.

const toReadPosition = (after: number): ReadPosition =>
  after < 0 ? START : { commit: BigInt(after), prepare: BigInt(after) }

const toPortPosition = (position: Position): number => Number(position.commit)

const toExpectedRevision = (expected: ExpectedRevision): AppendExpectedRevision =>
  expected === "any" ? ANY : expected === "no_stream" ? NO_STREAM : BigInt(expected)

/** schemaVersion and the stream hash (ADR 0030) travel in the event's metadata, next to the port's StoredMeta. */
interface EsdbMetadata extends StoredMeta {
  readonly schemaVersion: number
  readonly hash?: string
}

interface EncodedEvent {
  readonly type: string
  readonly schemaVersion: number
  readonly data: JSONType
  readonly meta: StoredMeta
  /** eventBody: what the stream hash covers besides the chain. */
  readonly body: string
}

/** The events as they will be stored; throws (a defect, in the caller's fiber) on data JSON cannot carry. */
const encode = (streamId: string, events: ReadonlyArray<NewEvent>): ReadonlyArray<EncodedEvent> =>
  events.map((event) => {
    // Round-trip through JSON text so a value the other adapters refuse is refused here too.
    const data = JSON.parse(toJsonText(event.data, `data of ${event.type} in ${streamId}`)) as JSONType
    const meta = JSON.parse(toJsonText(event.meta, `meta of ${event.type} in ${streamId}`)) as StoredMeta
    return { type: event.type, schemaVersion: event.schemaVersion, data, meta, body: eventBody({ streamId, type: event.type, schemaVersion: event.schemaVersion, data, meta }) }
  })

/** The events chained onto `head` from revision `first`. */
const toEventData = (events: ReadonlyArray<EncodedEvent>, head: string, first: number) =>
  events.map((event, i) => {
    head = chainEventBody(head, first + i, event.body)
    const metadata: EsdbMetadata = { ...event.meta, schemaVersion: event.schemaVersion, hash: head }
    return jsonEvent({ type: event.type, data: event.data, metadata })
  })

/** Our events only: system streams/events ($...), unresolved links and binary events are skipped. */
const toStoredEvent = (resolved: ResolvedEvent | AllStreamResolvedEvent): StoredEvent | undefined => {
  const event = resolved.event
  if (event === undefined || !event.isJson) return undefined
  if (event.streamId.startsWith("$") || event.type.startsWith("$")) return undefined
  if (event.position === undefined) {
    // Servers older than 20.10 leave positions out of stream reads; without them no projection
    // could resume, so refuse rather than drop events.
    throw new Error(`event ${event.id} came without a log position; EventStoreDB 20.10 or later is required`)
  }
  const { schemaVersion, hash, ...meta } = (event.metadata ?? {}) as Partial<EsdbMetadata>
  return {
    streamId: event.streamId,
    revision: Number(event.revision),
    position: toPortPosition(event.position),
    type: event.type,
    schemaVersion: schemaVersion ?? 1,
    data: event.data,
    meta: meta as StoredMeta,
    ...(hash === undefined ? {} : { hash }),
  }
}

// Never put the connection string in a message: it may carry credentials.
const unavailable = (operation: string) => (cause: unknown) =>
  new StoreUnavailable({ reason: `${operation}: ${cause instanceof Error ? cause.message : String(cause)}`, cause })

const makeEsdbStore = (client: EventStoreDBClient): EventStore["Service"] => {
  const readStreamFrom = async (streamId: string, fromRevision: number, maxCount?: number): Promise<Array<StoredEvent>> => {
    const events: Array<StoredEvent> = []
    try {
      const read = client.readStream(streamId, { fromRevision: BigInt(Math.max(0, fromRevision)), ...(maxCount ? { maxCount } : {}) })
      for await (const resolved of read) {
        const event = toStoredEvent(resolved)
        if (event !== undefined) events.push(event)
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return []
      throw error
    }
    return events
  }

  const lastEvent = async (streamId: string): Promise<StoredEvent | undefined> => {
    try {
      for await (const resolved of client.readStream(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
        const event = toStoredEvent(resolved)
        if (event !== undefined) return event
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error
    }
    return undefined
  }

  const currentRevision = async (streamId: string): Promise<number> =>
    (await lastEvent(streamId))?.revision ?? NO_STREAM_REVISION

  /** The stream's revision and the hash its next event chains onto. */
  const streamTip = async (streamId: string): Promise<{ readonly revision: number; readonly head: string }> => {
    const last = await lastEvent(streamId)
    if (last === undefined) return { revision: NO_STREAM_REVISION, head: GENESIS }
    return { revision: last.revision, head: last.hash ?? streamHead(await readStreamFrom(streamId, 0)) }
  }

  const readAllAfter = async (after: number, limit: number): Promise<Array<StoredEvent>> => {
    const events: Array<StoredEvent> = []
    if (limit <= 0) return events
    const read = client.readAll({ fromPosition: toReadPosition(after) })
    try {
      for await (const resolved of read) {
        const event = toStoredEvent(resolved)
        if (event === undefined || event.position <= after) continue
        events.push(event)
        if (events.length >= limit) break
      }
    } finally {
      await read.cancel().catch(() => undefined)
    }
    return events
  }

  return {
    append: (streamId, events, expected) =>
      Effect.suspend(() => {
        assertWellFormedAppend(streamId, events, expected)
        if (events.length === 0) {
          // An empty append only checks the expected revision, as in the other adapters.
          return Effect.tryPromise({ try: () => currentRevision(streamId), catch: unavailable(`read ${streamId}`) }).pipe(
            Effect.flatMap((current) => {
              const conflict = revisionConflict(streamId, expected, current)
              return conflict === undefined ? Effect.succeed(emptyAppendResult(current)) : Effect.fail(conflict)
            }),
          )
        }
        // The hashes chain onto the stream's last event, so the append is pinned to the revision
        // read: "any" as well, since a concurrent append in between would fork the chain (it
        // fails with WrongExpectedRevision instead, and the caller retries as after any conflict).
        const encoded = encode(streamId, events)
        return Effect.tryPromise({
          try: async () => {
            const tip = await streamTip(streamId)
            const conflict = revisionConflict(streamId, expected, tip.revision)
            if (conflict !== undefined) throw conflict
            const data = toEventData(encoded, tip.head, tip.revision + 1)
            const pinned: ExpectedRevision = tip.revision === NO_STREAM_REVISION ? "no_stream" : tip.revision
            return client.appendToStream(streamId, data, { expectedRevision: toExpectedRevision(pinned) })
          },
          catch: (error): WrongExpectedRevision | StoreUnavailable =>
            error instanceof WrongExpectedRevision ? error : error instanceof WrongExpectedVersionError
              ? new WrongExpectedRevision({
                streamId,
                expected,
                actual: error.actualVersion === NO_STREAM ? "no_stream" : Number(error.actualVersion),
              })
              : unavailable(`append to ${streamId}`)(error),
        }).pipe(
          Effect.flatMap((result) => {
            const nextExpectedRevision = Number(result.nextExpectedRevision)
            // For one event the reported position is that event's. For several, servers report
            // the write's commit position, which need not be the last event's: read that event
            // back, so "caught up to position" really includes the whole append.
            if (events.length === 1 && result.position !== undefined) {
              return Effect.succeed({ nextExpectedRevision, position: toPortPosition(result.position) })
            }
            return Effect.tryPromise({
              try: () => readStreamFrom(streamId, nextExpectedRevision, 1),
              catch: unavailable(`read back ${streamId}`),
            }).pipe(
              Effect.flatMap(([last]) =>
                last === undefined || last.revision !== nextExpectedRevision
                  ? Effect.fail(new StoreUnavailable({ reason: `append to ${streamId}: its last event cannot be read back` }))
                  : Effect.succeed({ nextExpectedRevision, position: last.position })
              ),
            )
          }),
        )
      }),
    readStream: (streamId, fromRevision = 0) =>
      Effect.tryPromise({ try: () => readStreamFrom(streamId, fromRevision), catch: unavailable(`read ${streamId}`) }),
    readAll: (options) =>
      Effect.tryPromise({
        try: () => readAllAfter(options?.after ?? -1, options?.limit ?? Number.POSITIVE_INFINITY),
        catch: unavailable("read $all"),
      }),
    subscribeAll: (after = -1) =>
      Stream.unwrap(
        Effect.map(
          // The subscription is a gRPC call: unsubscribing when the stream ends or is interrupted
          // cancels it on the server too.
          Effect.acquireRelease(
            Effect.sync(() =>
              client.subscribeToAll({ fromPosition: toReadPosition(after), filter: excludeSystemEvents() })
            ),
            (subscription) => Effect.promise(() => subscription.unsubscribe().catch(() => undefined)),
          ),
          (subscription) =>
            Stream.fromAsyncIterable(subscription, unavailable("subscribe to $all")).pipe(
              Stream.mapEffect((resolved) =>
                Effect.try({ try: () => toStoredEvent(resolved), catch: unavailable("subscribe to $all") })
              ),
              Stream.filter((event): event is StoredEvent => event !== undefined && event.position > after),
            ),
        ),
      ),
  }
}

/**
 * EventStore on the EventStoreDB at `connectionString` (e.g. "esdb://127.0.0.1:2113?tls=false").
 * The client is disposed when the layer's scope ends.
 */
export const makeEsdbEventStore = (connectionString: string): Layer.Layer<EventStore, StoreUnavailable> =>
  Layer.effect(
    EventStore,
    Effect.map(
      Effect.acquireRelease(
        Effect.try({
          try: () => EventStoreDBClient.connectionString(connectionString),
          // The parser's message quotes the string, which may hold a password: say less.
          catch: () => new StoreUnavailable({ reason: "invalid EventStoreDB connection string" }),
        }),
        (client) => Effect.promise(() => client.dispose().catch(() => undefined)),
      ),
      makeEsdbStore,
    ),
  )
