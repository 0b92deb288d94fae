// An in-memory event store whose appends take a moment, as a disk's fsync does: it opens the
// window between a check and the write that races in a real service.
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { makeMemoryCheckpointStore, makeMemoryEventStore } from "../../src/adapters/eventstore/memory.ts"
import { CheckpointStore, EventStore } from "../../src/ports/index.ts"

export const SlowMemoryStores = (appendDelayMs: number): Layer.Layer<EventStore | CheckpointStore> =>
  Layer.effectContext(Effect.sync(() => {
    const store = makeMemoryEventStore()
    const slow: EventStore["Service"] = {
      ...store,
      append: (stream, events, expected) => Effect.andThen(Effect.sleep(`${appendDelayMs} millis`), store.append(stream, events, expected)),
    }
    return Context.make(EventStore, slow).pipe(Context.add(CheckpointStore, makeMemoryCheckpointStore()))
  }))
