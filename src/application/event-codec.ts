// Between the domain's events and the store's records: encode on append, decode (and upcast) on read.
import * as E from "fp-ts/lib/Either.js"
import { decodeEvent, encodeEvent, type EventMeta, type NodeEvent, type RecordedNodeEvent } from "../domain/index.ts"
import type { NewEvent, StoredEvent } from "../ports/index.ts"

export const streamOf = (nodeId: string): string => `node-${nodeId}`
export const nodeIdOf = (streamId: string): string | null => (streamId.startsWith("node-") ? streamId.slice(5) : null)

export const toNewEvent = (event: NodeEvent, meta: EventMeta): NewEvent => ({ ...encodeEvent(event), meta })

/** A stored event the current build cannot read is a defect in the log or the build: fail loudly. */
export class UnreadableEvent extends Error {
  constructor(stored: StoredEvent, reason: string) {
    super(`event ${stored.type} at ${stored.streamId}@${stored.revision}: ${reason}`)
  }
}

export const fromStored = (stored: StoredEvent): RecordedNodeEvent => {
  const decoded = decodeEvent(stored)
  if (E.isLeft(decoded)) throw new UnreadableEvent(stored, decoded.left)
  return { event: decoded.right, meta: stored.meta, revision: stored.revision }
}
