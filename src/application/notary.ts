// The notary (ADR 0030): chains the committed log in global order and records checkpoints
// (position, log hash), optionally signed, as events of its own stream. One process runs it (the
// service); a second one would only lose the race for the next checkpoint and catch up.
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { eventHash, GENESIS, logHash } from "./hash-chain.ts"
import { EventStore, WrongExpectedRevision, type StoreUnavailable, type StoredEvent } from "../ports/index.ts"

/** The stream holding the checkpoints; no node's stream, so projections pass over it. */
export const NOTARY_STREAM = "notary"
export const CHECKPOINT_EVENT = "LogCheckpointed"

/** A checkpoint, as stored in the log and as exported (one JSON object per line). */
export interface LogCheckpoint {
  /** Position of the last event the checkpoint covers. */
  readonly position: number
  /** The log hash after that event (application/hash-chain.ts logHash). */
  readonly logHash: string
  /** How many events the chain covers, from the start of the log. */
  readonly events: number
  readonly at: string
  /** Ed25519 signature (base64) of checkpointStatement(position, logHash), and which key made it. */
  readonly keyId?: string
  readonly signature?: string
}

/** Signs checkpoint statements with a key kept outside the store. */
export interface CheckpointSigner {
  readonly keyId: string
  readonly sign: (statement: string) => string
}

export interface NotaryConfig {
  /** A checkpoint at least every this many events while catching up. */
  readonly every: number
  /** How often the notary looks for new events. */
  readonly intervalMs: number
  readonly signer?: CheckpointSigner | undefined
  readonly statement: (position: number, logHash: string) => string
}

export const defaultNotaryConfig = { every: 10_000, intervalMs: 10_000 }

export const isCheckpoint = (event: StoredEvent) => event.streamId === NOTARY_STREAM && event.type === CHECKPOINT_EVENT

const pageSize = 5000

export const makeNotary = (config: NotaryConfig) => {
  // Where the chain stands: resumed from the last checkpoint in the log on the first tick.
  let state: { position: number; hash: string; events: number; revision: number } | undefined
  /** Recomputed heads of streams whose events predate stream hashes (only met on a first run). */
  const legacyHeads = new Map<string, string>()

  const load = Effect.gen(function* () {
    const store = yield* EventStore
    const mine = yield* store.readStream(NOTARY_STREAM)
    const last = [...mine].reverse().find(isCheckpoint)
    const checkpoint = last?.data as LogCheckpoint | undefined
    state = {
      position: checkpoint?.position ?? -1,
      hash: checkpoint?.logHash ?? GENESIS,
      events: checkpoint?.events ?? 0,
      revision: mine.length - 1,
    }
    return state
  })

  /** The event's stream hash: stored, or for an event written before hashing began, computed. */
  const streamHashOf = (event: StoredEvent) =>
    Effect.gen(function* () {
      if (event.hash !== undefined) return event.hash
      let head = legacyHeads.get(event.streamId)
      if (head === undefined) {
        head = GENESIS
        const before = (yield* (yield* EventStore).readStream(event.streamId)).filter((e) => e.revision < event.revision)
        for (const e of before) head = e.hash ?? eventHash(head, e)
      }
      const hash = eventHash(head, event)
      legacyHeads.set(event.streamId, hash)
      return hash
    })

  const checkpoint = (at: { position: number; hash: string; events: number }) =>
    Effect.gen(function* () {
      const current = state!
      const now = new Date(yield* Clock.currentTimeMillis).toISOString()
      const signed = config.signer === undefined
        ? {}
        : { keyId: config.signer.keyId, signature: config.signer.sign(config.statement(at.position, at.hash)) }
      const data: LogCheckpoint = { position: at.position, logHash: at.hash, events: at.events, at: now, ...signed }
      const meta = { occurredAt: now, actor: "notary", correlationId: `notary-${at.position}`, causationId: null }
      const expected = current.revision < 0 ? "no_stream" as const : current.revision
      const result = yield* (yield* EventStore).append(NOTARY_STREAM, [{ type: CHECKPOINT_EVENT, schemaVersion: 1, data, meta }], expected)
      state = { ...at, revision: result.nextExpectedRevision }
      return data
    })

  /**
   * Chains every event after the last checkpoint and records checkpoints (every `every` events and
   * at the end). Only the notary's own checkpoints since: nothing to record. Returns the new ones.
   */
  const tick: Effect.Effect<ReadonlyArray<LogCheckpoint>, StoreUnavailable, EventStore> = Effect.gen(function* () {
    const store = yield* EventStore
    let { position, hash, events } = state ?? (yield* load)
    let news = 0
    const written: Array<LogCheckpoint> = []
    for (;;) {
      const page = yield* store.readAll({ after: position, limit: pageSize })
      for (const event of page) {
        hash = logHash(hash, event, yield* streamHashOf(event))
        position = event.position
        events++
        if (!isCheckpoint(event)) news++
        if (news >= config.every) {
          written.push(yield* checkpoint({ position, hash, events }))
          news = 0
        }
      }
      if (page.length < pageSize) break
    }
    if (news > 0) written.push(yield* checkpoint({ position, hash, events }))
    return written
  }).pipe(
    // Another notary got there first: start again from its checkpoint next time.
    Effect.catchIf((e): e is WrongExpectedRevision => e instanceof WrongExpectedRevision, () => {
      state = undefined
      return Effect.succeed([])
    }),
  )

  /** Runs until interrupted; a failing store is retried at the next interval. */
  const run = Effect.repeat(
    Effect.catchCause(tick, (cause) => Effect.as(Effect.logWarning("notary", cause), [])),
    { schedule: Schedule.spaced(`${config.intervalMs} millis`) },
  )

  return { tick, run }
}
