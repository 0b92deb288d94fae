// A conductor's writes to one node, gathered: each command is decided on the node as the commands
// before it leave it, and all of them go to the log in ONE append, against the revision the first
// was planned on. If anything else landed on the node meanwhile (a user's abort, another
// conductor), nothing is written and the conductor plans again from the log (ADR 0125).
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import { decide, evolve, type DomainError, type NodeCommand, type NodeState, type RecordedNodeEvent } from "../../domain/index.ts"
import type { EventStore, StoreUnavailable } from "../../ports/index.ts"
import { appendRecorded, recordedAfter, Stale, type CommandContext } from "../execute.ts"
import type { Fleet } from "../projections/fleet.ts"

export class Batch {
  readonly events: Array<RecordedNodeEvent> = []
  /** The node as the log will have it once the batch is written. */
  state: NodeState
  /** Whether the batch takes (or renews) this conductor's lease. */
  takesLease = false

  readonly nodeId: string
  /** The node as planned on: the batch is appended after its revision. */
  readonly base: NodeState

  constructor(nodeId: string, base: NodeState) {
    this.nodeId = nodeId
    this.base = base
    this.state = base
  }

  /** Decides `command` on the batch's state and folds its events in; Left when the domain refuses it. */
  add(command: NodeCommand, ctx: CommandContext): E.Either<DomainError, NodeState> {
    const decision = decide(this.state, command, this.nodeId)
    if (E.isLeft(decision)) return decision
    const recorded = recordedAfter(this.state, decision.right, ctx)
    for (const r of recorded) {
      this.state = evolve(this.state, r.event, r.meta)
      this.events.push(r)
    }
    return E.right(this.state)
  }
}

/** Writes the batch in one append; Stale (nothing written) when the node moved past the batch's base. */
export const writeBatch = (fleet: Fleet, batch: Batch): Effect.Effect<NodeState, Stale | StoreUnavailable, EventStore> =>
  Effect.suspend(() => {
    const planned = batch.base.revision
    if (batch.events.length === 0) return Effect.succeed(fleet.nodes.get(batch.nodeId) ?? batch.base)
    // The fleet already holds a newer copy (this process's API wrote, the log follower folded
    // another's write): the append would only fail.
    if ((fleet.nodes.get(batch.nodeId)?.revision ?? -1) !== planned) return Effect.fail(new Stale({ nodeId: batch.nodeId, planned }))
    return appendRecorded(fleet, batch.nodeId, planned, batch.events).pipe(
      Effect.map((done) => done.state),
      Effect.catchTag("WrongExpectedRevision", () => Effect.fail(new Stale({ nodeId: batch.nodeId, planned }))),
    )
  })
