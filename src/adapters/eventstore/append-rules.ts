// Rules every EventStore adapter applies the same way: which expected revision matches, and what
// counts as a well-formed append. Keeping them here is what makes memory, SQLite and EventStoreDB
// agree on the contract suite.
import { WrongExpectedRevision, type ExpectedRevision, type NewEvent } from "../../ports/event-store.ts"

/** The revision of a stream that does not exist yet (its "last event" is before revision 0). */
export const NO_STREAM_REVISION = -1

/**
 * The conflict, if any, between what the caller expected and the stream's current revision
 * (`NO_STREAM_REVISION` when the stream does not exist).
 */
export const revisionConflict = (
  streamId: string,
  expected: ExpectedRevision,
  current: number,
): WrongExpectedRevision | undefined => {
  const matches = expected === "any" || (expected === "no_stream" ? current === NO_STREAM_REVISION : current === expected)
  if (matches) return undefined
  return new WrongExpectedRevision({
    streamId,
    expected,
    actual: current === NO_STREAM_REVISION ? "no_stream" : current,
  })
}

/**
 * Throws a TypeError for an append no caller should make: these are programming errors (the
 * domain's codecs build every event), so adapters turn them into defects, not typed failures.
 */
export const assertWellFormedAppend = (
  streamId: string,
  events: ReadonlyArray<NewEvent>,
  expected: ExpectedRevision,
): void => {
  if (typeof streamId !== "string" || streamId.length === 0) {
    throw new TypeError("append: streamId must be a non-empty string")
  }
  if (expected !== "any" && expected !== "no_stream" && !(Number.isSafeInteger(expected) && expected >= 0)) {
    throw new TypeError(`append to ${streamId}: expected revision must be "any", "no_stream" or an integer >= 0, got ${String(expected)}`)
  }
  for (const event of events) {
    if (typeof event.type !== "string" || event.type.length === 0) {
      throw new TypeError(`append to ${streamId}: every event needs a non-empty type`)
    }
    if (!Number.isSafeInteger(event.schemaVersion) || event.schemaVersion < 1) {
      throw new TypeError(`append to ${streamId}: event ${event.type} has schemaVersion ${String(event.schemaVersion)}, expected an integer >= 1`)
    }
  }
}

/** JSON text of an event's data or metadata; throws a TypeError naming the event when it has none. */
export const toJsonText = (value: unknown, what: string): string => {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (cause) {
    throw new TypeError(`${what} is not JSON-serialisable: ${String(cause)}`)
  }
  if (text === undefined) throw new TypeError(`${what} is not JSON-serialisable (${typeof value})`)
  return text
}

/** An append of no events writes nothing: it only checks the expected revision. */
export const emptyAppendResult = (current: number) => ({ nextExpectedRevision: current, position: -1 })
