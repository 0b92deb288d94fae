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

const pageSize = 500

/**
 * How often the service's notary chains what is new, between checkpoints: a tenth of its interval,
 * so that the hashing comes in small pieces instead of one burst of an interval's events (ADR 0188).
 */
const chainsPerInterval = 10

export const makeNotary = (config: NotaryConfig) => {
  /**
   * Where the chain stands: resumed from the last checkpoint in the log on the first pass. `pending`
   * counts the events chained since the last checkpoint, not counting checkpoints.
   */
  let state: { position: number; hash: string; events: number; revision: number; pending: number; checkpointedAt: number } | undefined
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
      pending: 0,
      checkpointedAt: yield* Clock.currentTimeMillis,
    }
    return state
  })

  /** The stream hash of an event written before hashing began: computed from its stream. */
  const legacyHashOf = (event: StoredEvent) =>
    Effect.gen(function* () {
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

  /** Records a checkpoint of the chain as it stands. */
  const checkpoint = Effect.gen(function* () {
    const current = state!
    const now = yield* Clock.currentTimeMillis
    const at = new Date(now).toISOString()
    const signed = config.signer === undefined
      ? {}
      : { keyId: config.signer.keyId, signature: config.signer.sign(config.statement(current.position, current.hash)) }
    const data: LogCheckpoint = { position: current.position, logHash: current.hash, events: current.events, at, ...signed }
    const meta = { occurredAt: at, actor: "notary", correlationId: `notary-${current.position}`, causationId: null }
    const expected = current.revision < 0 ? "no_stream" as const : current.revision
    const result = yield* (yield* EventStore).append(NOTARY_STREAM, [{ type: CHECKPOINT_EVENT, schemaVersion: 1, data, meta }], expected)
    current.revision = result.nextExpectedRevision
    current.pending = 0
    current.checkpointedAt = now
    return data
  })

  /**
   * Chains every event after the chain's position, recording a checkpoint every `every` events and,
   * when `atEnd` says so, once more at the end. Only the notary's own checkpoints since: nothing to
   * record. Returns the new checkpoints.
   */
  const pass = (atEnd: (chained: { readonly pending: number; readonly checkpointedAt: number }) => Effect.Effect<boolean>) =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const chain = state ?? (yield* load)
      const written: Array<LogCheckpoint> = []
      for (;;) {
        const page = yield* store.readAll({ after: chain.position, limit: pageSize })
        for (const event of page) {
          // No Effect per event: only an event from before stream hashes needs the store.
          const streamHash = event.hash ?? (yield* legacyHashOf(event))
          chain.hash = logHash(chain.hash, event, streamHash)
          chain.position = event.position
          chain.events++
          if (!isCheckpoint(event)) chain.pending++
          if (chain.pending >= config.every) written.push(yield* checkpoint)
        }
        if (page.length < pageSize) break
      }
      if (chain.pending > 0 && (yield* atEnd(chain))) written.push(yield* checkpoint)
      return written
    }).pipe(
      // Another notary got there first: start again from its checkpoint next time.
      Effect.catchIf((e): e is WrongExpectedRevision => e instanceof WrongExpectedRevision, () => {
        state = undefined
        return Effect.succeed<ReadonlyArray<LogCheckpoint>>([])
      }),
    )

  /** Chains every event after the last checkpoint and records checkpoints (every `every` events and at the end). */
  const tick: Effect.Effect<ReadonlyArray<LogCheckpoint>, StoreUnavailable, EventStore> = pass(() => Effect.succeed(true))

  /**
   * Runs until interrupted: chains what is new every tenth of the interval, and records a checkpoint
   * once an interval has passed since the last one (or `every` events came); a failing store is
   * retried at the next pass.
   */
  const run = Effect.repeat(
    Effect.catchCause(
      pass(({ checkpointedAt }) => Effect.map(Clock.currentTimeMillis, (now) => now - checkpointedAt >= config.intervalMs)),
      (cause) => Effect.as(Effect.logWarning("notary", cause), []),
    ),
    { schedule: Schedule.spaced(`${Math.max(1, Math.floor(config.intervalMs / chainsPerInterval))} millis`) },
  )

  return { tick, run }
}
