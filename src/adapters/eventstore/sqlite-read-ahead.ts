// The read by stream on a second core (ADR 0208): a worker thread with a connection of its own steps
// SQLite and joins each page's rows into one JSON text, a few pages ahead; this thread parses a page
// with one JSON.parse and folds it while the worker reads the next. Stepping SQLite and handing each
// row's seven values to V8 was half of a replay's time on the one thread.
import { Worker } from "node:worker_threads"
import * as Effect from "effect/Effect"
import { streamOrderPage, type StoreUnavailable, type StoredEvent, type StreamOrderCursor, type StreamOrderPage } from "../../ports/event-store.ts"
import { unavailable } from "./sqlite-append.ts"

export interface ReadAheadStart {
  readonly path: string
  /** The head the read stops at, fixed before it starts. */
  readonly upTo: number
  readonly limit: number
  /** Pages the worker may read before the reader has taken them: what the read ahead holds at most. */
  readonly pagesAhead: number
  readonly busyTimeoutMs: number
}

/** The worker's page: `[[streamId, count, [position, revision, type, schemaVersion, data, meta, ...]], ...]`. */
export type ReadAheadMessage = { readonly page: string; readonly count: number } | { readonly error: string }

export interface ReadAhead {
  /** Whether `cursor` is the one this read handed out last (so its page is read already) with the same limit. */
  readonly continues: (cursor: StreamOrderCursor, limit: number) => boolean
  /** The next page, as readByStream gives it. */
  readonly next: Effect.Effect<StreamOrderPage, StoreUnavailable>
  /** Stops the worker (a reader that gave up, the store closing); a waiting `next` fails. */
  readonly close: () => void
}

const failure = unavailable("read the log by stream")
const fieldsPerEvent = 6

/**
 * The page's events. data and meta went into the page's text unparsed: one that is not a single JSON
 * value fails the parse, or shows as a stream whose fields do not count out or do not have their
 * types, and fails the read, as its own JSON.parse fails a read on the one thread.
 */
const eventsOf = (message: { readonly page: string; readonly count: number }): Array<StoredEvent> => {
  const groups = JSON.parse(message.page) as ReadonlyArray<readonly [string, number, ReadonlyArray<unknown>]>
  const events = new Array<StoredEvent>(message.count)
  let i = 0
  for (const [streamId, count, fields] of groups) {
    if (fields.length !== count * fieldsPerEvent) throw new Error(`${streamId}'s ${count} events read as ${fields.length} fields`)
    // One streamId string for the stream's events, where rows read one by one each bring a copy.
    for (let f = 0; f < fields.length; f += fieldsPerEvent) {
      const position = fields[f], revision = fields[f + 1], type = fields[f + 2], schemaVersion = fields[f + 3], meta = fields[f + 5]
      if (typeof position !== "number" || typeof revision !== "number" || typeof type !== "string" || typeof schemaVersion !== "number" ||
        typeof meta !== "object" || meta === null) {
        throw new Error(`${streamId}: event ${f / fieldsPerEvent + 1} of the ${count} in the page is not as stored (its data or meta is not one JSON value)`)
      }
      events[i++] = { position, streamId, revision, type, schemaVersion, data: fields[f + 4], meta: meta as StoredEvent["meta"], hash: undefined }
    }
  }
  if (i !== message.count) throw new Error(`a page of ${message.count} events held ${i}`)
  return events
}

export const startReadAhead = (start: ReadAheadStart): ReadAhead => {
  const worker = new Worker(new URL("./sqlite-read-ahead-worker.ts", import.meta.url), { workerData: start })
  // A reader that stops half-way leaves the worker idle: it never keeps the process alive.
  worker.unref()
  const arrived: Array<ReadAheadMessage> = []
  let waiting: ((message: ReadAheadMessage) => void) | undefined
  let handedOut: StreamOrderCursor | null = null
  let over = false
  const deliver = (message: ReadAheadMessage) => {
    const taker = waiting
    waiting = undefined
    if (taker === undefined) arrived.push(message)
    else taker(message)
  }
  worker.on("message", deliver)
  worker.on("error", (error) => deliver({ error: error.message }))
  // After the last page this comes to no one: the page before it ended the read.
  worker.on("exit", (code) => deliver({ error: `the read's worker thread exited (code ${code})` }))

  const close = () => {
    if (over) return
    over = true
    void worker.terminate()
    deliver({ error: "the read was stopped" })
  }

  const next = Effect.callback<StreamOrderPage, StoreUnavailable>((resume) => {
    const take = (message: ReadAheadMessage) => {
      if ("error" in message) {
        close()
        return resume(Effect.fail(failure(new Error(message.error))))
      }
      try {
        const page = streamOrderPage(eventsOf(message), start.upTo, start.limit)
        handedOut = page.next
        if (page.next === null) over = true
        else worker.postMessage(1)
        resume(Effect.succeed(page))
      } catch (error) {
        close()
        resume(Effect.fail(failure(error)))
      }
    }
    const ready = arrived.shift()
    if (ready !== undefined) take(ready)
    else waiting = take
    return Effect.sync(() => {
      if (waiting === take) waiting = undefined
    })
  })

  return {
    continues: (cursor, limit) => !over && cursor === handedOut && limit === start.limit,
    next,
    close,
  }
}
