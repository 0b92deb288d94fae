// What every NodeService use case shares: the node as the log has it (caught up), commands run
// through decide and an optimistic append (the conductor kicked after), name and MAC claims, the
// node as clients see it.
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as E from "fp-ts/lib/Either.js"
import { parseUuid, type NodeCommand, type NodeInterfaces, type NodeState } from "../../domain/index.ts"
import { EventStore, Ids, Secrets, type StoreUnavailable } from "../../ports/index.ts"
import { catchUp, currentNodeNow, execute, type CommandContext } from "../execute.ts"
import type { Registry } from "../hardware/registry.ts"
import { Conflict, NodeNotFound, Refused } from "../node-service.ts"
import type { Fleet } from "../projections/fleet.ts"
import { toNodeView, type Progress } from "../projections/node-view.ts"
import { makeNodeLanes } from "./node-lanes.ts"
import { cachedViews } from "./view-cache.ts"

/** Nodes whose latest view is kept: the ones clients poll; a bounded cost at any fleet size. */
const viewCacheSize = 2048

/** What the service needs from the conductor: a nudge when a node has work, and live write progress. */
export interface ConductorHandle {
  readonly kick: (nodeId: string) => void
  readonly progressOf: (nodeId: string) => Progress
}

/** Refusals that mean "someone else holds it" rather than "invalid": the API answers 409 for those. */
export const asConflict = <A, E, R>(eff: Effect.Effect<A, E, R>): Effect.Effect<A, E | Conflict, R> =>
  Effect.mapError(eff, (e) =>
    e instanceof Refused && (e.error.code === "Conflict" || e.error.code === "AlreadyExists")
      ? new Conflict({ reason: e.error.message })
      : e)

export const makeNodeCore = (fleet: Fleet, conductor: ConductorHandle, registry: Registry) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const ids = yield* Ids
    const secrets = yield* Secrets
    // Names and MACs are unique across nodes. A claim is held from the check until the write that
    // uses it has landed, so two requests for one name cannot both pass, while unrelated writes
    // (and their fsyncs) still go in parallel.
    const claims = new Set<string>()
    const claiming = <A, E2, R>(keys: ReadonlyArray<string>, taken: (key: string) => string | null, work: Effect.Effect<A, E2, R>) =>
      Effect.suspend((): Effect.Effect<A, E2 | Conflict, R> => {
        for (const key of keys) {
          const reason = claims.has(key) ? `${key} is being claimed by another request.` : taken(key)
          if (reason !== null) return Effect.fail(new Conflict({ reason }))
        }
        for (const key of keys) claims.add(key)
        return Effect.ensuring(work, Effect.sync(() => { for (const key of keys) claims.delete(key) }))
      })
    const nameClaim = (name: string | null | undefined) => (name == null ? [] : [`name:${name}`])
    const nameTaken = (self: string | null) => (key: string) => {
      const holder = fleet.findByName(key.slice(5))
      return holder !== undefined && holder.nodeId !== self ? `A node with name ${key.slice(5)} already exists.` : null
    }
    const withStore = <A, E2>(eff: Effect.Effect<A, E2, EventStore>) => Effect.provideService(eff, EventStore, store)

    const context = (actor: string, correlationId?: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        return {
          actor,
          correlationId: correlationId ?? (yield* ids.uuid),
          causationId: null,
          occurredAt: new Date(now).toISOString(),
        } satisfies CommandContext
      })

    // Users' commands to one node are decided one at a time in this process: requests sent together
    // then queue in arrival order instead of racing each other's appends (ADR 0050).
    const lanes = makeNodeLanes()
    const run = (nodeId: string, command: NodeCommand, ctx: CommandContext) =>
      lanes.run(nodeId, withStore(execute(fleet, nodeId, command, ctx))).pipe(
        Effect.tap((r) => Effect.sync(() => r.events.length > 0 && conductor.kick(nodeId))),
      )

    const idOf = (ref: string) => {
      const asUuid = parseUuid(ref)
      return E.isRight(asUuid) ? asUuid.right : fleet.findByName(ref)?.nodeId
    }
    const found = (ref: string, state: NodeState | undefined, includeDeleted: boolean): Exit.Exit<NodeState, NodeNotFound> =>
      state === undefined || (state.deleted && !includeDeleted) ? Exit.fail(new NodeNotFound({ ref })) : Exit.succeed(state)
    /**
     * `resolve` answered at the call, as an Exit, when the fleet is known to hold the log (the API's
     * reads then need no fiber, ADR 0192); undefined when the node's stream must be read first.
     */
    const resolveNow = (ref: string, includeDeleted = false): Exit.Exit<NodeState, NodeNotFound | StoreUnavailable> | undefined => {
      const id = idOf(ref)
      if (id === undefined) return Exit.fail(new NodeNotFound({ ref }))
      const now = currentNodeNow(fleet, store, id)
      if (now === undefined) return undefined
      return Exit.isFailure(now) ? Exit.failCause(now.cause) : found(ref, now.value, includeDeleted)
    }
    /** `resolve` through a read of the node's stream: right at any time, and needed where `resolveNow` cannot answer. */
    const resolveRead = (ref: string, includeDeleted = false): Effect.Effect<NodeState, NodeNotFound | StoreUnavailable> =>
      Effect.suspend(() => {
        const id = idOf(ref)
        return id === undefined ? Exit.fail(new NodeNotFound({ ref }))
          : Effect.flatMap(withStore(catchUp(fleet, id)), (state) => found(ref, state, includeDeleted))
      })
    /** A node by UUID or name, its state caught up with the log; a deleted node only when asked for. */
    const resolve = (ref: string, includeDeleted = false): Effect.Effect<NodeState, NodeNotFound | StoreUnavailable> =>
      Effect.suspend(() => resolveNow(ref, includeDeleted) ?? resolveRead(ref, includeDeleted))

    /** A node's interfaces as its hardware type resolves them (older nodes recorded none). */
    const interfacesOf = (n: NodeState): NodeInterfaces => E.getOrElse((): NodeInterfaces => n.interfaces)(registry.choose(n.driver, n.interfaces))
    // Built once per node state and kept for the nodes read lately (view-cache.ts, ADR 0151).
    const viewOf = cachedViews((n: NodeState, progress: Progress) => toNodeView(n, progress, interfacesOf(n)), viewCacheSize)
    const view = (n: NodeState) => viewOf(n, conductor.progressOf(n.nodeId))

    return { fleet, registry, ids, secrets, claiming, nameClaim, nameTaken, withStore, context, run, resolve, resolveNow, resolveRead, view }
  })

export type NodeCore = Effect.Success<ReturnType<typeof makeNodeCore>>
