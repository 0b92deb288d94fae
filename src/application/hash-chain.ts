// Tamper evidence (ADR 0030): the hash chains over the log. Pure functions shared by every event
// store adapter (each stream's chain, computed at append time) and by the notary and `verify`
// (the chain over the whole log in global order). Changing anything here changes every hash ever
// written: a new encoding needs a new version tag, never an edit of this one.
import { createHash } from "node:crypto"

/** The "previous hash" of a stream's first event, and of the log's first event. */
export const GENESIS = "0".repeat(64)

/**
 * Canonical JSON: RFC 8785 (JCS). Object members sorted by UTF-16 code units, no whitespace,
 * numbers and strings as ECMAScript's JSON.stringify writes them; members whose value is
 * undefined are left out, as JSON.stringify does. One difference from RFC 8785, which refuses
 * them: a lone surrogate in a string is written as a \\uXXXX escape (JSON.stringify's choice), so
 * whatever data the store accepts can be hashed.
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError(`${value} has no JSON form`)
    const text = JSON.stringify(value)
    if (text === undefined) throw new TypeError(`a ${typeof value} has no JSON form`)
    return text
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined || typeof v === "function" || typeof v === "symbol" ? "null" : canonicalJson(v))).join(",")}]`
  }
  const members: Array<string> = []
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key]
    if (v === undefined || typeof v === "function" || typeof v === "symbol") continue
    members.push(`${JSON.stringify(key)}:${canonicalJson(v)}`)
  }
  return `{${members.join(",")}}`
}

/** What a stream's hash covers: everything stored about an event except its global position. */
export interface HashedEvent {
  readonly streamId: string
  readonly revision: number
  readonly type: string
  readonly schemaVersion: number
  readonly data: unknown
  readonly meta: unknown
}

/** The part of the stream hash's input that does not depend on the chain: computable before the append. */
export const eventBody = (event: Omit<HashedEvent, "revision">): string =>
  canonicalJson({ streamId: event.streamId, type: event.type, schemaVersion: event.schemaVersion, data: event.data, meta: event.meta })

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex")

/**
 * The stream hash of an event from the hash of the stream's previous event (GENESIS for revision
 * 0) and its `eventBody`: lowercase hex SHA-256 of the UTF-8 text
 *   "ironledger-event-v1\n" + previous + "\n" + revision + "\n" + body
 */
export const chainEventBody = (previous: string, revision: number, body: string): string =>
  sha256(`ironledger-event-v1\n${previous}\n${revision}\n${body}`)

/** chainEventBody over an event record. */
export const eventHash = (previous: string, event: HashedEvent): string =>
  chainEventBody(previous, event.revision, eventBody(event))

/**
 * One step of the notary's chain over the whole log in global order: lowercase hex SHA-256 of
 *   "ironledger-log-v1\n" + previous + "\n" + position + "\n" + canonicalJson([streamId, revision]) + "\n" + eventHash
 * where eventHash is the event's stream hash as recomputed from its content (never the stored one).
 */
export const logHash = (
  previous: string,
  event: { readonly position: number; readonly streamId: string; readonly revision: number },
  streamHash: string,
): string => sha256(`ironledger-log-v1\n${previous}\n${event.position}\n${canonicalJson([event.streamId, event.revision])}\n${streamHash}`)

/** The text a checkpoint's Ed25519 signature covers. */
export const checkpointStatement = (position: number, logHash: string): string =>
  `ironledger-checkpoint-v1\n${position}\n${logHash}`

/**
 * The chain value after a stream's events (GENESIS for none): an event's stored hash where it has
 * one, else its hash computed from the one before. Adapters use it for the first append after
 * events stored before hashing began, so those events are chained in as they are.
 */
export const streamHead = (events: ReadonlyArray<HashedEvent & { readonly hash?: string | undefined }>): string => {
  // From the last event that has a stored hash: only what follows it needs computing.
  let from = events.length - 1
  while (from >= 0 && events[from]!.hash === undefined) from--
  let head = from >= 0 ? events[from]!.hash! : GENESIS
  for (let i = from + 1; i < events.length; i++) head = eventHash(head, events[i]!)
  return head
}
