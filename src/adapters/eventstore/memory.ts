// In-memory EventStore and CheckpointStore for the application's own tests. Same contract as the
// durable stores (the contract suite runs against it), including JSON round-tripping of data, so a
// test cannot pass here with a value SQLite would refuse or change.
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { chainEventBody, eventBody, streamHead } from "../../application/hash-chain.ts"
import { CheckpointStore, checkpointText, type Checkpoint } from "../../ports/checkpoint-store.ts"
import { EventStore, streamOrderPage, type StoredEvent } from "../../ports/event-store.ts"
import {
  assertWellFormedAppend,
  emptyAppendResult,
  NO_STREAM_REVISION,
  revisionConflict,
  toJsonText,
} from "./append-rules.ts"
import { makeAppendSignal, tailAll } from "./live-tail.ts"

const PAGE_SIZE = 1000

export const makeMemoryEventStore = (): EventStore["Service"] => {
  // Position = index in `log` + 1, so positions start at 1 like SQLite's rowids.
  const log: Array<StoredEvent> = []
  const streams = new Map<string, Array<StoredEvent>>()
  const signal = makeAppendSignal()

  const readAfter = (after: number, limit: number): ReadonlyArray<StoredEvent> => {
    const start = Math.max(0, Math.floor(after))
    return log.slice(start, start + limit)
  }

  return {
    append: (streamId, events, expected) =>
      Effect.suspend(() => {
        assertWellFormedAppend(streamId, events, expected)
        const stream = streams.get(streamId)
        const current = stream === undefined ? NO_STREAM_REVISION : stream.length - 1
        const conflict = revisionConflict(streamId, expected, current)
        if (conflict !== undefined) return Effect.fail(conflict)
        if (events.length === 0) return Effect.succeed(emptyAppendResult(current))
        // Encode everything before storing anything: a bad event leaves the stream untouched.
        let head = streamHead(stream ?? [])
        const stored = events.map((event, i): StoredEvent => {
          const record = {
            streamId,
            type: event.type,
            schemaVersion: event.schemaVersion,
            data: JSON.parse(toJsonText(event.data, `data of ${event.type} in ${streamId}`)),
            meta: JSON.parse(toJsonText(event.meta, `meta of ${event.type} in ${streamId}`)),
          }
          head = chainEventBody(head, current + 1 + i, eventBody(record))
          return { ...record, revision: current + 1 + i, position: log.length + 1 + i, hash: head }
        })
        log.push(...stored)
        if (stream === undefined) streams.set(streamId, stored)
        else stream.push(...stored)
        signal.notify()
        const last = stored[stored.length - 1]!
        return Effect.succeed({ nextExpectedRevision: last.revision, position: last.position })
      }),
    readStream: (streamId, fromRevision = 0) =>
      Effect.sync(() => (streams.get(streamId) ?? []).slice(Math.max(0, fromRevision))),
    readAll: (options) => Effect.sync(() => readAfter(options?.after ?? -1, options?.limit ?? log.length)),
    // Streams in the order they were created; a stream's events past the head are a suffix of it.
    readByStream: (cursor, limit) =>
      Effect.sync(() => {
        const upTo = cursor?.upTo ?? log[log.length - 1]?.position ?? -1
        const ids = [...streams.keys()]
        const events: Array<StoredEvent> = []
        let from = cursor === null ? 0 : cursor.revision + 1
        for (let i = cursor === null ? 0 : ids.indexOf(cursor.streamId); i < ids.length && events.length < limit; i++, from = 0) {
          const stream = streams.get(ids[i]!)!
          for (let r = from; r < stream.length && stream[r]!.position <= upTo && events.length < limit; r++) events.push(stream[r]!)
        }
        return streamOrderPage(events, upTo, limit)
      }),
    subscribeAll: (after = -1) =>
      tailAll({
        after,
        readPage: (from) => Effect.sync(() => readAfter(from, PAGE_SIZE)),
        signal,
        pollIntervalMs: undefined,
      }),
  }
}

export const makeMemoryCheckpointStore = (): CheckpointStore["Service"] => {
  const checkpoints = new Map<string, Checkpoint>()
  return {
    load: (projection) => Effect.sync(() => Option.fromNullishOr(checkpoints.get(projection))),
    save: (projection, checkpoint) =>
      Effect.sync(() => {
        checkpoints.set(projection, { position: checkpoint.position, state: checkpointText(checkpoint.state) })
      }),
  }
}

/** A fresh, empty store each time the layer is built. */
export const MemoryEventStore: Layer.Layer<EventStore> = Layer.effect(EventStore, Effect.sync(makeMemoryEventStore))

export const MemoryCheckpointStore: Layer.Layer<CheckpointStore> = Layer.effect(
  CheckpointStore,
  Effect.sync(makeMemoryCheckpointStore),
)

/** Both stores, as the SQLite layer provides them. */
export const MemoryStores: Layer.Layer<EventStore | CheckpointStore> = Layer.effectContext(
  Effect.sync(() =>
    Context.make(EventStore, makeMemoryEventStore()).pipe(Context.add(CheckpointStore, makeMemoryCheckpointStore()))
  ),
)
