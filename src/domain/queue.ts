// The node's action queue (ADR 0050). A power or provision request that arrives while another action
// runs on the node is recorded in the node's stream (ActionQueued) and carried out after it, in
// order; it is judged against the state the node will be in once everything ahead of it is done.
// Pure: decide passes itself in, so this file needs no import of it.
import * as E from "fp-ts/lib/Either.js"
import type { NodeCommand } from "./commands.ts"
import { domainError, type DomainError } from "./errors.ts"
import { hardwareRequests, type EventMeta, type NodeEvent, type QueuedAction } from "./events.ts"
import { targetOf, waitStates, type PowerState } from "./lifecycle.ts"
import { evolve, type NodeState } from "./node-state.ts"

/** At most this many actions wait per node; beyond it a request is refused (503, try again later). */
export const maxQueuedActions = 32

type Decision = E.Either<DomainError, ReadonlyArray<NodeEvent>>
type ExistingCommand = Exclude<NodeCommand, { readonly type: "Enroll" }>
export type DecideExisting = (s: NodeState, c: ExistingCommand) => Decision

/** An operation runs or waits for its ramdisk, or a hardware step is out: a new action waits. */
export const actionRunning = (s: NodeState): boolean => targetOf(s.provisionState) !== null || s.pendingSteps.length > 0

/** The command that carries a queued action out; a power action's step is keyed by its action id. */
export const commandOf = (actionId: string, a: QueuedAction): ExistingCommand => {
  switch (a.kind) {
    case "power": return { type: "RequestHardware", request: { type: a.request, data: { step: `${actionId}:power` } } }
    case "provision": return {
      type: "Provision", verb: a.verb, ...(a.cleanSteps === undefined ? {} : { cleanSteps: a.cleanSteps }),
      ...(a.rescuePasswordHash === undefined ? {} : { rescuePasswordHash: a.rescuePasswordHash }),
    }
    case "deploy": return { type: "Deploy", spec: a.spec, rebuild: a.rebuild }
  }
}

/** How a queued action is named in refusals: "power on", "provide", "rebuild". */
export const actionName = (a: QueuedAction): string =>
  a.kind === "power" ? hardwareRequests[a.request] : a.kind === "provision" ? a.verb : a.rebuild ? "rebuild" : "deploy"

/** Where a power request leaves the node. */
const powerAfter: Record<PowerState, PowerState> = {
  "power on": "power on", "power off": "power off", rebooting: "power on", "soft power off": "power off", "soft rebooting": "power on",
}

/** The node once what runs on it now has ended well: its operation at its target, its steps done. */
const settle = (s: NodeState): NodeState => {
  const manualClean = s.operation?.kind === "manual clean" && (s.provisionState === "cleaning" || s.provisionState === "clean wait")
  const target = manualClean ? "manageable" : targetOf(s.provisionState)
  const power = s.targetPowerState ?? s.powerState
  return {
    ...s, pendingSteps: [], targetPowerState: null, powerState: power === null ? null : powerAfter[power],
    ...(target === null ? {} : {
      provisionState: target, targetProvisionState: null, waitDeadline: null,
      ...(s.provisionState === "deleting" ? { deploy: null, instanceInfo: {} } : {}),
    }),
  }
}

/** The state the node will be in once the action running now and every queued one have ended well. */
export const projected = (s: NodeState, decideExisting: DecideExisting): NodeState =>
  s.queue.reduce((at, item) => {
    const d = decideExisting(at, commandOf(item.actionId, item.action))
    // One that would be refused by then is dropped when its turn comes: it changes nothing.
    if (E.isLeft(d)) return at
    const meta: EventMeta = { occurredAt: s.updatedAt, actor: "queue", correlationId: item.actionId, causationId: null }
    return settle(d.right.reduce((x, e) => evolve(x, e, meta), at))
  }, settle(s))

/** Every queued action dropped, the first for `why`, the ones behind it because it was. */
export const dropQueue = (s: NodeState, why: string): ReadonlyArray<NodeEvent> =>
  s.queue.map((q, i): NodeEvent => ({
    type: "QueuedActionDropped",
    data: { actionId: q.actionId, reason: i === 0 ? why : `the queued action ${s.queue[0]!.actionId} ahead of it was dropped: ${why}` },
  }))

/** A refusal judged on the state the queue leads to: said so, and a 400 whatever the plain check's code. */
const behindQueue = (s: NodeState, e: DomainError): DomainError =>
  domainError(e.code === "InvalidTransition" ? "InvalidTransition" : "InvalidInput", e.nodeId, e.action, e.state,
    `${e.message} That is the state node ${s.nodeId} will be in once the action running now` +
    `${s.queue.length === 0 ? "" : ` and the ${s.queue.length} queued before this one`} are done.`)

export const decideRequest = (s: NodeState, c: Extract<NodeCommand, { readonly type: "Request" }>, decideExisting: DecideExisting): Decision => {
  const command = commandOf(c.actionId, c.action)
  if (s.queue.length === 0) {
    if (!actionRunning(s)) return decideExisting(s, command)
    // A verb that leaves a wait (undeploy a deploy waiting for its ramdisk, ...) acts at once, as in Ironic.
    if (c.action.kind !== "power" && waitStates.includes(s.provisionState)) {
      const now = decideExisting(s, command)
      if (E.isRight(now)) return now
    }
  }
  // An impossible request is refused as such (400) even when the queue is full: trying again would not help.
  const then = decideExisting(projected(s, decideExisting), command)
  if (E.isLeft(then)) return E.left(behindQueue(s, then.left))
  if (s.queue.length >= maxQueuedActions) {
    return E.left(domainError("QueueFull", s.nodeId, actionName(c.action), s.provisionState,
      `Node ${s.nodeId} already has ${s.queue.length} actions queued, the most it takes; try again once some are done.`))
  }
  return E.right([{ type: "ActionQueued", data: { actionId: c.actionId, action: c.action } }])
}

/** The first queued action, recorded as started with its own first event; or, if the node no longer allows it, the queue dropped. */
export const decideStartQueued = (s: NodeState, decideExisting: DecideExisting): Decision => {
  const head = s.queue[0]
  if (head === undefined) return E.left(domainError("Conflict", s.nodeId, "start queued", s.provisionState, `Node ${s.nodeId} has no queued action.`))
  if (actionRunning(s)) {
    return E.left(domainError("Conflict", s.nodeId, "start queued", s.provisionState, `Node ${s.nodeId} is still busy; its queued actions wait.`))
  }
  const now = decideExisting(s, commandOf(head.actionId, head.action))
  if (E.isLeft(now)) return E.right(dropQueue(s, now.left.message))
  return E.right([{ type: "QueuedActionStarted", data: { actionId: head.actionId } }, ...now.right])
}

/** Abort clears the queue; it aborts the running action too where that can be aborted. */
export const abortClearing = (s: NodeState, abort: Decision): Decision =>
  s.queue.length === 0 ? abort : E.right([...(E.isRight(abort) ? abort.right : []), ...dropQueue(s, "aborted")])
