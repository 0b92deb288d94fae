// EventStore and CheckpointStore on PostgreSQL (driver: pg), for conductors on several hosts. An
// append is one statement calling the schema's append function (its own transaction); the global
// order is the appending transaction's id, read only below the oldest transaction still running,
// so a subscriber never passes an event that a slower transaction commits later. See ADR 0020.
import { eventBody } from "../../application/hash-chain.ts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import pg from "pg"
import { CheckpointStore, checkpointText } from "../../ports/checkpoint-store.ts"
import {
  EventStore,
  StoreUnavailable,
  streamOrderPage,
  WrongExpectedRevision,
  type AppendResult,
  type ExpectedRevision,
  type StoredEvent,
} from "../../ports/event-store.ts"
import { assertWellFormedAppend, NO_STREAM_REVISION, toJsonText } from "./append-rules.ts"
import { makeAppendSignal, tailAll } from "./live-tail.ts"
import { makeAppendGroups } from "./postgres-append.ts"
import { makeListener, makeNotifier } from "./postgres-listen.ts"
import { channelOf, checkSchemaName, ensureSchema, ORDINAL_BITS } from "./postgres-schema.ts"

export interface PostgresStoreOptions {
  /** Schema holding the tables (created if missing). Default "ironledger". */
  readonly schema?: string
  /** Connections in the pool (appends and reads run concurrently on them). Default 10. */
  readonly poolSize?: number
  /** Server-side statement_timeout, ms. Default 15,000. */
  readonly statementTimeoutMs?: number
  /** How long to wait for a connection (server or network down), ms. Default 3,000. */
  readonly connectTimeoutMs?: number
  /** Events per read while a subscription catches up. Default 1000. */
  readonly pageSize?: number
  /**
   * How often a live subscription looks again without a notification: covers a transaction that
   * rolled back (no NOTIFY, yet the readable horizon moved) and a LISTEN connection being rebuilt.
   * Default 500 ms.
   */
  readonly pollIntervalMs?: number
  /** Group appends: at most this many appends per transaction. Default 256. */
  readonly maxGroupAppends?: number
  /** ...and at most this many events (an append with more forms a group of its own). Default 4096. */
  readonly maxGroupEvents?: number
  /** Longest pause between a subscription's retries while the server is unreachable. Default 2,000 ms. */
  readonly maxRetryPauseMs?: number
  /** Told of each failed read a subscription retries (default: nothing). */
  readonly onRetry?: (reason: string) => void
}

const COLUMNS = "position, stream_id, revision, type, schema_version, data, meta, hash"

/** Never the connection string in a message: it may carry a password. */
const unavailable = (operation: string) => (cause: unknown) =>
  new StoreUnavailable({ reason: `${operation}: ${cause instanceof Error ? cause.message : String(cause)}`, cause })

/** Rows as arrays in COLUMNS order; bigints arrive as text, json columns already parsed. */
const toStoredEvent = (row: ReadonlyArray<unknown>): StoredEvent => ({
  position: Number(row[0]),
  streamId: row[1] as string,
  revision: Number(row[2]),
  type: row[3] as string,
  schemaVersion: row[4] as number,
  data: row[5],
  meta: row[6] as StoredEvent["meta"],
  hash: row[7] as string,
})

const expectedCode = (expected: ExpectedRevision): number =>
  expected === "any" ? -2 : expected === "no_stream" ? NO_STREAM_REVISION : expected

export const poolConfig = (url: string, options: PostgresStoreOptions): pg.PoolConfig => ({
  connectionString: url,
  max: options.poolSize ?? 10,
  connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
  statement_timeout: options.statementTimeoutMs ?? 15_000,
  // The client gives up a little after the server would have: a cut link never answers at all.
  query_timeout: (options.statementTimeoutMs ?? 15_000) + 5000,
  idle_in_transaction_session_timeout: 60_000,
  keepAlive: true,
  // Pooled connections stay open while idle: reopening one costs more than keeping a few.
  idleTimeoutMillis: 0,
  application_name: "ironledger",
})

const makeStores = (pool: pg.Pool, config: pg.PoolConfig, schema: string, options: PostgresStoreOptions) => {
  const s = schema
  // Only transactions below the oldest one still running are read: every one of them has ended,
  // so nothing can ever commit below the horizon after a reader passed it.
  const horizon = `(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << ${ORDINAL_BITS})`
  const selectAfter = `SELECT ${COLUMNS} FROM ${s}.events WHERE position > $1 AND position < ${horizon} ORDER BY position LIMIT $2`
  const selectStream = `SELECT ${COLUMNS} FROM ${s}.events WHERE stream_id = $1 AND revision >= $2 ORDER BY revision`
  // The rebuild's read in stream order (ADR 0194), bounded by the horizon the first page saw.
  const selectHorizon = `SELECT ${horizon} - 1`
  const selectByStream = `SELECT ${COLUMNS} FROM ${s}.events WHERE (stream_id, revision) > ($1, $2) AND position <= $3 ORDER BY stream_id, revision LIMIT $4`
  const signal = makeAppendSignal()
  const listener = makeListener(config, channelOf(s), signal)
  // Neither needs the pool's timeouts: they only wait for NOTIFYs, or send them.
  const { connectionTimeoutMillis: _c, query_timeout: _q, statement_timeout: _s, ...plain } = config
  const notifier = makeNotifier(plain, channelOf(s))
  const groups = makeAppendGroups(pool, s, {
    maxInFlight: options.poolSize ?? 10,
    maxGroupAppends: options.maxGroupAppends ?? 256,
    maxGroupEvents: options.maxGroupEvents ?? 4096,
  })
  let closed = false
  const pageSize = options.pageSize ?? 1000
  const maxPause = options.maxRetryPauseMs ?? 2000

  const rows = async (text: string, values: Array<unknown>) =>
    (await pool.query({ text, values, rowMode: "array" })).rows as Array<ReadonlyArray<unknown>>

  const readAfter = (after: number, limit: number | null) =>
    Effect.tryPromise({
      try: async () => (await rows(selectAfter, [after, limit])).map(toStoredEvent),
      catch: unavailable("read all"),
    })

  /** A subscription's page: retried while the server is unreachable, so a restart only pauses it. */
  const readPageRetrying = (after: number) =>
    Effect.suspend(() => {
      let pause = 50
      const attempt: Effect.Effect<ReadonlyArray<StoredEvent>, StoreUnavailable> = readAfter(after, pageSize).pipe(
        Effect.catch((error) =>
          Effect.suspend(() => {
            // A closed store will not come back: the subscription ends with the error.
            if (closed) return Effect.fail(error)
            options.onRetry?.(error.reason)
            const wait = pause
            pause = Math.min(pause * 2, maxPause)
            return Effect.andThen(Effect.sleep(`${wait} millis`), attempt)
          })
        ),
      )
      return attempt
    })

  const eventStore: EventStore["Service"] = {
    append: (streamId, events, expected) =>
      Effect.suspend(() => {
        // Bad input is a defect (thrown in the caller's fiber), not an unavailable store.
        assertWellFormedAppend(streamId, events, expected)
        const types = events.map((e) => e.type)
        const versions = events.map((e) => e.schemaVersion)
        const data = events.map((e) => toJsonText(e.data, `data of ${e.type} in ${streamId}`))
        const meta = events.map((e) => toJsonText(e.meta, `meta of ${e.type} in ${streamId}`))
        const bodies = events.map((e) => eventBody({ streamId, type: e.type, schemaVersion: e.schemaVersion, data: e.data, meta: e.meta }))
        return groups.submit({ streamId, expected: expectedCode(expected), types, versions, data, meta, bodies })
      }).pipe(
        Effect.flatMap((outcome): Effect.Effect<AppendResult, WrongExpectedRevision | StoreUnavailable> => {
          if (outcome instanceof StoreUnavailable) return Effect.fail(outcome)
          if ("conflict" in outcome) {
            return Effect.fail(new WrongExpectedRevision({
              streamId, expected, actual: outcome.conflict === NO_STREAM_REVISION ? "no_stream" : outcome.conflict,
            }))
          }
          if (events.length > 0) {
            signal.notify() // our own subscribers need not wait for the NOTIFY
            notifier.announce()
          }
          return Effect.succeed(outcome)
        }),
      ),
    readStream: (streamId, fromRevision = 0) =>
      Effect.tryPromise({
        try: async () => (await rows(selectStream, [streamId, fromRevision])).map(toStoredEvent),
        catch: unavailable(`read ${streamId}`),
      }),
    readAll: (options) => readAfter(options?.after ?? -1, options?.limit ?? null),
    readByStream: (cursor, limit) =>
      Effect.tryPromise({
        try: async () => {
          const upTo = cursor?.upTo ?? Number((await rows(selectHorizon, []))[0]![0])
          const page = await rows(selectByStream, [cursor?.streamId ?? "", cursor?.revision ?? -1, upTo, limit])
          return streamOrderPage(page.map(toStoredEvent), upTo, limit)
        },
        catch: unavailable("read the log by stream"),
      }),
    subscribeAll: (after = -1) =>
      tailAll({
        after,
        readPage: (from) => Effect.andThen(Effect.sync(listener.start), readPageRetrying(from)),
        signal,
        pollIntervalMs: options.pollIntervalMs ?? 500,
      }),
  }

  const checkpointStore: CheckpointStore["Service"] = {
    load: (projection) =>
      Effect.tryPromise({
        try: async () => {
          const [row] = await rows(`SELECT position, state FROM ${s}.checkpoints WHERE projection = $1`, [projection])
          return row === undefined ? Option.none() : Option.some({ position: Number(row[0]), state: row[1] as string })
        },
        catch: unavailable(`load checkpoint ${projection}`),
      }),
    save: (projection, checkpoint) =>
      Effect.tryPromise({
        try: async () => {
          await pool.query(
            `INSERT INTO ${s}.checkpoints (projection, position, state) VALUES ($1, $2, $3) ` +
              "ON CONFLICT (projection) DO UPDATE SET position = excluded.position, state = excluded.state",
            [projection, checkpoint.position, checkpointText(checkpoint.state)],
          )
        },
        catch: unavailable(`save checkpoint ${projection}`),
      }),
  }

  const close = async () => {
    // Appends already queued are written before the pool closes.
    await groups.drain()
    closed = true
    await Promise.all([listener.close(), notifier.close()])
  }
  return { eventStore, checkpointStore, close }
}

/**
 * EventStore and CheckpointStore on the PostgreSQL database at `url` (postgres://user:pass@host/db,
 * TLS through ?sslmode=...). Creates the schema when missing. The pool and the LISTEN connection
 * are closed when the layer's scope ends.
 */
export const makePostgresEventStore = (
  url: string,
  options: PostgresStoreOptions = {},
): Layer.Layer<EventStore | CheckpointStore, StoreUnavailable> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const schema = checkSchemaName(options.schema ?? "ironledger")
      const config = poolConfig(url, options)
      const pool = yield* Effect.acquireRelease(
        Effect.try({ try: () => new pg.Pool(config), catch: () => new StoreUnavailable({ reason: "invalid PostgreSQL connection string" }) }),
        (pool) => Effect.promise(() => pool.end().catch(() => undefined)),
      )
      // An idle pooled connection that drops (server restart) emits "error": it is simply discarded.
      pool.on("error", () => {})
      yield* Effect.tryPromise({ try: () => ensureSchema(pool, schema), catch: unavailable(`open schema ${schema}`) })
      const { eventStore, checkpointStore, close } = makeStores(pool, config, schema, options)
      yield* Effect.addFinalizer(() => Effect.promise(close))
      return Context.make(EventStore, eventStore).pipe(Context.add(CheckpointStore, checkpointStore))
    }),
  )
