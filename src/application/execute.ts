// Runs a command against a node: decide on the node's state, append with the expected revision.
// A concurrent writer (another fiber or another conductor process) makes the append fail with
// WrongExpectedRevision; we re-read and decide again, a bounded number of times.
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as E from "fp-ts/lib/Either.js"
import { decide, evolve, initialState, type EventMeta, type NodeCommand, type NodeEvent, type NodeState, type RecordedNodeEvent, type Uuid } from "../domain/index.ts"
import { EventStore, type StoreUnavailable } from "../ports/index.ts"
import { Conflict, Refused } from "./node-service.ts"
import { fromStored, streamOf, toNewEvent } from "./event-codec.ts"
import { instanceUuidOf, type Fleet } from "./projections/fleet.ts"
import { timedAppend } from "./observe.ts"

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

/** The node moved on from the revision a command was planned against. */
export class Stale extends Data.TaggedError("Stale")<{ readonly nodeId: string; readonly planned: number }> {}

/**
 * Runs a command planned against exactly revision `planned` of the node (the conductor's plans): if
 * anything else landed since, nothing is written and Stale says to plan again. Re-deciding the
 * same command on newer state, as execute() does for users, could act on a plan that no longer holds.
 */
export const executePlanned = (
  fleet: Fleet,
  nodeId: string,
  planned: number,
  command: NodeCommand,
  ctx: CommandContext,
): Effect.Effect<Executed, Refused | Stale | StoreUnavailable, EventStore> =>
  Effect.gen(function* () {
    const state = fleet.nodes.get(nodeId)
    if (state === undefined || state.revision !== planned) return yield* Effect.fail(new Stale({ nodeId, planned }))
    const decision = decide(state, command, nodeId)
    if (E.isLeft(decision)) return yield* Effect.fail(new Refused({ error: decision.left }))
    return yield* appendDecided(fleet, nodeId, state.revision, decision.right, ctx).pipe(
      Effect.catchTag("WrongExpectedRevision", () => Effect.fail(new Stale({ nodeId, planned }))),
    )
  })

/**
 * Each event's metadata, stamped with the instance the node carries after it or, failing that,
 * before it (tear down's events carry the instance they clear): the log itself says which instance
 * an event was for, whoever reads it (ADR 0047).
 */
const stamped = (state: NodeState, events: ReadonlyArray<NodeEvent>, ctx: CommandContext): Array<EventMeta> => {
  const base = { occurredAt: ctx.occurredAt, actor: ctx.actor, correlationId: ctx.correlationId, causationId: ctx.causationId }
  let before = state
  return events.map((event) => {
    const after = evolve(before, event, base)
    const instance = instanceUuidOf(after) ?? instanceUuidOf(before)
    before = after
    return instance === null ? base : { ...base, instanceUuid: instance }
  })
}

/** Appends decided events after `revision` and folds them into the fleet at once (read-your-writes). */
const appendDecided = (fleet: Fleet, nodeId: string, revision: number, events: ReadonlyArray<NodeEvent>, ctx: CommandContext) =>
  Effect.suspend(() => {
    if (events.length === 0) return Effect.succeed({ state: fleet.nodes.get(nodeId)!, events: [] } satisfies Executed)
    const metas = stamped(fleet.nodes.get(nodeId) ?? initialState(nodeId as Uuid), events, ctx)
    return appendRecorded(fleet, nodeId, revision, events.map((event, i): RecordedNodeEvent => ({ event, meta: metas[i]!, revision: revision + 1 + i })))
  })

/**
 * Events already decided and stamped (a conductor's batch, folded as it went): appended after
 * `revision` in one append, then folded into the fleet.
 */
export const appendRecorded = (fleet: Fleet, nodeId: string, revision: number, recorded: ReadonlyArray<RecordedNodeEvent>) =>
  Effect.gen(function* () {
    yield* timedAppend((yield* EventStore).append(streamOf(nodeId), recorded.map((r) => toNewEvent(r.event, r.meta)), revision < 0 ? "no_stream" : revision))
    for (const r of recorded) fleet.apply(nodeId, r)
    return { state: fleet.nodes.get(nodeId)!, events: recorded } satisfies Executed
  })

/** The events of one decision, stamped as `stamped` does, numbered on from `state`'s revision. */
export const recordedAfter = (state: NodeState, events: ReadonlyArray<NodeEvent>, ctx: CommandContext): Array<RecordedNodeEvent> => {
  const metas = stamped(state, events, ctx)
  return events.map((event, i) => ({ event, meta: metas[i]!, revision: state.revision + 1 + i }))
}

/**
 * Brings the fleet's copy of one node up to date with its stream; with `own`, as part of a start-up
 * catch-up whose states are folded in place (Fleet.applyUnshared, ADR 0170).
 */
export const catchUp = (fleet: Fleet, nodeId: string, own?: Set<NodeState>): Effect.Effect<NodeState | undefined, StoreUnavailable, EventStore> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const known = fleet.nodes.get(nodeId)
    const tail = yield* store.readStream(streamOf(nodeId), (known?.revision ?? -1) + 1)
    for (const stored of tail) {
      const recorded = fromStored(stored)
      if (own === undefined) fleet.apply(nodeId, recorded)
      else fleet.applyUnshared(nodeId, recorded, own)
    }
    return fleet.nodes.get(nodeId)
  })

export const execute = (
  fleet: Fleet,
  nodeId: string,
  command: NodeCommand,
  ctx: CommandContext,
): Effect.Effect<Executed, Refused | Conflict | StoreUnavailable, EventStore> =>
  Effect.gen(function* () {
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
      const appended = yield* appendDecided(fleet, nodeId, state?.revision ?? -1, decision.right, ctx).pipe(
        Effect.catchTag("WrongExpectedRevision", () => Effect.succeed(null)),
      )
      if (appended !== null) return appended
      if (attempt >= maxAttempts) {
        return yield* Effect.fail(new Conflict({ reason: `Node ${nodeId} is being changed by another writer; try again.` }))
      }
    }
  })

/**
 * A node as a reader should see it: the fleet's copy when the fleet has folded in every event other
 * processes committed (this process's own writes are folded in as they are made, so a client reads
 * its writes), otherwise caught up from the node's stream. Saves a store read per API read (ADR 0150).
 */
export const currentNode = (fleet: Fleet, nodeId: string): Effect.Effect<NodeState | undefined, StoreUnavailable, EventStore> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    return yield* (currentNodeNow(fleet, store, nodeId) ?? catchUp(fleet, nodeId))
  })

/**
 * currentNode answered at the call, as an Exit, when the store can tell that the fleet is current
 * (the API's reads then need no fiber, ADR 0192); undefined when the node's stream must be read.
 */
export const currentNodeNow = (fleet: Fleet, store: EventStore["Service"], nodeId: string): Exit.Exit<NodeState | undefined, StoreUnavailable> | undefined => {
  const head = store.foreignHead?.()
  if (head === undefined) return undefined
  if (Exit.isFailure(head)) return Exit.failCause(head.cause)
  return fleet.position >= head.value ? Exit.succeed(fleet.nodes.get(nodeId)) : undefined
}
