// Runs a command against a node: decide on the node's state, append with the expected revision.
// A concurrent writer (another fiber or another conductor process) makes the append fail with
// WrongExpectedRevision; we re-read and decide again, a bounded number of times.
import { Effect } from "effect"
import * as E from "fp-ts/lib/Either.js"
import { decide, type NodeCommand, type NodeState, type RecordedNodeEvent } from "../domain/index.ts"
import { EventStore, type StoreUnavailable } from "../ports/index.ts"
import { Conflict, Refused } from "./node-service.ts"
import { fromStored, streamOf, toNewEvent } from "./event-codec.ts"
import type { Fleet } from "./projections/fleet.ts"

export interface CommandContext {
  readonly actor: string
  readonly correlationId: string
  readonly causationId: string | null
  /** ISO time stamped on the events; the caller takes it from the Clock port. */
  readonly occurredAt: string
}

export interface Executed {
  readonly state: NodeState
  readonly events: ReadonlyArray<RecordedNodeEvent>
}

const maxAttempts = 8

/** Brings the fleet's copy of one node up to date with its stream. */
export const catchUp = (fleet: Fleet, nodeId: string): Effect.Effect<NodeState | undefined, StoreUnavailable, EventStore> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const known = fleet.nodes.get(nodeId)
    const tail = yield* store.readStream(streamOf(nodeId), (known?.revision ?? -1) + 1)
    for (const stored of tail) fleet.apply(nodeId, fromStored(stored))
    return fleet.nodes.get(nodeId)
  })

export const execute = (
  fleet: Fleet,
  nodeId: string,
  command: NodeCommand,
  ctx: CommandContext,
): Effect.Effect<Executed, Refused | Conflict | StoreUnavailable, EventStore> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    for (let attempt = 1; ; attempt++) {
      // The fleet follows the log, so its copy is usually current: decide on it without a read.
      // If another writer got there first, the append's expected revision says so, and we read.
      const cached = attempt === 1 ? fleet.nodes.get(nodeId) : undefined
      const state = cached ?? (yield* catchUp(fleet, nodeId)) ?? null
      const decision = decide(state, command, nodeId)
      // A refusal or a no-op must rest on the log as it is, not on a copy that may be behind.
      if (cached !== undefined && (E.isLeft(decision) || decision.right.length === 0)) continue
      if (E.isLeft(decision)) return yield* Effect.fail(new Refused({ error: decision.left }))
      if (decision.right.length === 0) return { state: state!, events: [] }
      const revision = state?.revision ?? -1
      const meta = { occurredAt: ctx.occurredAt, actor: ctx.actor, correlationId: ctx.correlationId, causationId: ctx.causationId }
      const appended = yield* store
        .append(streamOf(nodeId), decision.right.map((e) => toNewEvent(e, meta)), revision < 0 ? "no_stream" : revision)
        .pipe(Effect.map((r) => ({ ok: true as const, r })), Effect.catchTag("WrongExpectedRevision", () => Effect.succeed({ ok: false as const })))
      if (!appended.ok) {
        if (attempt >= maxAttempts) {
          return yield* Effect.fail(new Conflict({ reason: `Node ${nodeId} is being changed by another writer; try again.` }))
        }
        continue
      }
      const recorded = decision.right.map((event, i): RecordedNodeEvent => ({ event, meta, revision: revision + 1 + i }))
      for (const r of recorded) fleet.apply(nodeId, r)
      return { state: fleet.nodes.get(nodeId)!, events: recorded }
    }
  })
