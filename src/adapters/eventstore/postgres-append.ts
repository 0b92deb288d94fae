// Appends to PostgreSQL in groups: the appends that arrive while the pool's connections are busy
// (or in one turn of the event loop) go to the server in ONE call of the schema's append_group
// function, one transaction and one WAL flush for all of them; each is still checked against its
// own expected revision and a conflict fails it alone. Up to `maxInFlight` groups run at once,
// each on its own connection. See ADR 0020 (group appends).
import * as Effect from "effect/Effect"
import type pg from "pg"
import { StoreUnavailable, type AppendResult } from "../../ports/event-store.ts"

export interface EncodedAppend {
  readonly streamId: string
  /** -2 any, -1 no stream, n the stream's last revision. */
  readonly expected: number
  readonly types: ReadonlyArray<string>
  readonly versions: ReadonlyArray<number>
  readonly data: ReadonlyArray<string>
  readonly meta: ReadonlyArray<string>
  /** Each event's eventBody, which the server chains into its stream hash. */
  readonly bodies: ReadonlyArray<string>
}

/** A conflict is reported as the stream's actual revision; the caller makes the port's error. */
export type GroupOutcome = AppendResult | { readonly conflict: number } | StoreUnavailable

export interface AppendGroupsOptions {
  readonly maxInFlight: number
  readonly maxGroupAppends: number
  readonly maxGroupEvents: number
}

interface Pending {
  readonly request: EncodedAppend
  resume: ((outcome: Effect.Effect<GroupOutcome>) => void) | undefined
}

const unavailable = (operation: string, cause: unknown) =>
  new StoreUnavailable({ reason: `${operation}: ${cause instanceof Error ? cause.message : String(cause)}`, cause })

/**
 * The server refused the statement and rolled it back (so nothing of the group was written, and
 * each append may be tried alone). Not a lost connection (the commit may have happened) nor a
 * statement timeout (trying again alone would only wait as long again).
 */
const refusedStatement = (error: unknown) => {
  const e = error as { severity?: unknown; code?: unknown }
  return e.severity === "ERROR" && typeof e.code === "string" && e.code !== "57014"
}

export const makeAppendGroups = (pool: pg.Pool, schema: string, options: AppendGroupsOptions) => {
  let queue: Array<Pending> = []
  let inFlight = 0
  let scheduled = false
  const idle: Array<() => void> = []
  const sql = `SELECT k, ok, revision, position FROM ${schema}.append_group($1, $2, $3, $4, $5, $6, $7, $8)`

  /** One call of append_group; never fails: every append gets its outcome. */
  const writeGroup = async (requests: ReadonlyArray<EncodedAppend>): Promise<Array<GroupOutcome>> => {
    try {
      const { rows } = await pool.query({
        text: sql, rowMode: "array",
        values: [
          requests.map((r) => r.streamId), requests.map((r) => r.expected), requests.map((r) => r.types.length),
          requests.flatMap((r) => r.types), requests.flatMap((r) => r.versions), requests.flatMap((r) => r.data), requests.flatMap((r) => r.meta),
          requests.flatMap((r) => r.bodies),
        ],
      })
      const outcomes = new Array<GroupOutcome>(requests.length)
      for (const [k, ok, revision, position] of rows as Array<[number, boolean, string, string]>) {
        outcomes[k - 1] = ok ? { nextExpectedRevision: Number(revision), position: Number(position) } : { conflict: Number(revision) }
      }
      return outcomes
    } catch (error) {
      // One bad append must not fail its neighbours: the group was rolled back whole, so each is
      // tried alone, in arrival order.
      if (requests.length > 1 && refusedStatement(error)) {
        const alone: Array<GroupOutcome> = []
        for (const request of requests) alone.push(...await writeGroup([request]))
        return alone
      }
      return requests.map((r) => unavailable(`append to ${r.streamId}`, error))
    }
  }

  /** The oldest live requests, up to the bounds; interrupted ones are dropped on the way. */
  const takeGroup = (): Array<Pending> => {
    const group: Array<Pending> = []
    let events = 0
    let taken = 0
    for (; taken < queue.length; taken++) {
      const pending = queue[taken]!
      if (pending.resume === undefined) continue
      const n = pending.request.types.length
      if (group.length > 0 && (group.length >= options.maxGroupAppends || events + n > options.maxGroupEvents)) break
      group.push(pending)
      events += n
    }
    queue = taken === queue.length ? [] : queue.slice(taken)
    return group
  }

  const flush = () => {
    scheduled = false
    while (inFlight < options.maxInFlight) {
      const group = takeGroup()
      if (group.length === 0) break
      inFlight++
      void writeGroup(group.map((p) => p.request)).then((outcomes) => {
        inFlight--
        // Once sent, an append is written; a caller interrupted meanwhile just does not hear of it.
        group.forEach((pending, i) => {
          const resume = pending.resume
          pending.resume = undefined
          resume?.(Effect.succeed(outcomes[i]!))
        })
        schedule()
        wakeIfIdle()
      })
    }
    wakeIfIdle()
  }

  const wakeIfIdle = () => {
    if (inFlight === 0 && queue.length === 0) for (const wake of idle.splice(0)) wake()
  }

  /** On the next turn of the event loop: the appends of this turn go together. */
  function schedule() {
    if (scheduled || queue.length === 0 || inFlight >= options.maxInFlight) return
    scheduled = true
    setImmediate(flush)
  }

  return {
    /** Queues the append for the next group; interrupted while queued, it is never written. */
    submit: (request: EncodedAppend): Effect.Effect<GroupOutcome> =>
      Effect.callback<GroupOutcome>((resume) => {
        const pending: Pending = { request, resume }
        queue.push(pending)
        schedule()
        return Effect.sync(() => { pending.resume = undefined })
      }),
    /** Resolves once every queued and running group has been written (before the pool closes). */
    drain: (): Promise<void> =>
      new Promise((resolve) => {
        if (inFlight === 0 && queue.every((p) => p.resume === undefined)) return resolve()
        idle.push(resolve)
        schedule()
      }),
  }
}
