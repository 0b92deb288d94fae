// The node's action queue (ADR 0050), case by case: given a node's events, a user's request is
// carried out, queued, or refused for the state the queue leads to; failures and abort drop the queue.
import { describe, test } from "node:test"
import { maxQueuedActions, type NodeCommand, type NodeEvent, type QueuedAction } from "../../../src/domain/index.ts"
import { active, available, deployId, given, inMaintenance, manageable, nodeId, spec, thenEvents, thenRefused, waitingCallBack, when } from "./scenario.ts"

const request = (actionId: string, action: QueuedAction): NodeCommand => ({ type: "Request", actionId, action })
const powerOff: QueuedAction = { kind: "power", request: "PowerOffRequested" }
const provide: QueuedAction = { kind: "provision", verb: "provide" }
const queued = (actionId: string, action: QueuedAction): NodeEvent => ({ type: "ActionQueued", data: { actionId, action } })
const cleaning: ReadonlyArray<NodeEvent> = [...manageable, { type: "ProvideRequested", data: {} }]

describe("a request to a node that is free", () => {
  test("is carried out at once, as before", () => {
    thenEvents(when(given(...available), request("a1", powerOff)), { type: "PowerOffRequested", data: { step: "a1:power" } })
    thenEvents(when(given(...manageable), request("a1", provide)), { type: "ProvideRequested", data: {} })
  })
})

describe("a request to a busy node", () => {
  test("waits behind a cleaning, or behind a power action still out, instead of a 409", () => {
    thenEvents(when(given(...cleaning), request("a1", powerOff)), queued("a1", powerOff))
    const powering = given(...available, { type: "PowerOnRequested", data: { step: "a0:power" } })
    thenEvents(when(powering, request("a1", powerOff)), queued("a1", powerOff))
  })

  test("is judged against the state the node is heading for: a deploy behind a provide is fine, a second provide is not", () => {
    const deploy: QueuedAction = { kind: "deploy", spec: spec(), rebuild: false }
    thenEvents(when(given(...cleaning), request("a1", deploy)), queued("a1", deploy))
    thenRefused(when(given(...cleaning, queued("a1", deploy)), request("a2", provide)), {
      code: "InvalidTransition", action: "provide", state: "active",
      message: `The requested action "provide" can not be performed on node "${nodeId}" while it is in state "active". ` +
        `That is the state node ${nodeId} will be in once the action running now and the 1 queued before this one are done.`,
    })
  })

  test("goes behind what is queued even when the node is free meanwhile: order is kept", () => {
    const freeWithQueue = given(...available, queued("a1", powerOff))
    thenEvents(when(freeWithQueue, request("a2", { kind: "power", request: "PowerOnRequested" })), queued("a2", { kind: "power", request: "PowerOnRequested" }))
  })

  test("that leaves a wait (undeploy a deploy waiting for its ramdisk) acts at once, as in Ironic", () => {
    thenEvents(when(given(...waitingCallBack), request("a1", { kind: "provision", verb: "undeploy" })), { type: "UndeployRequested", data: {} })
  })

  test(`beyond ${maxQueuedActions} waiting is refused for now, an impossible one for good`, () => {
    const full = given(...cleaning, ...Array.from({ length: maxQueuedActions }, (_, i) => queued(`q${i}`, powerOff)))
    thenRefused(when(full, request("late", powerOff)), { code: "QueueFull", action: "power off", message: /already has 32 actions queued/ })
    thenRefused(when(full, request("late", provide)), { code: "InvalidTransition", action: "provide", state: "available" })
  })
})

describe("the queued actions", () => {
  const behindDeploy = [...waitingCallBack, queued("a1", powerOff), queued("a2", provide)]

  test("start in turn once nothing runs, recorded with the action's own first event", () => {
    const done = given(...active, queued("a1", powerOff), queued("a2", provide))
    thenEvents(when(done, { type: "StartQueued" }),
      { type: "QueuedActionStarted", data: { actionId: "a1" } }, { type: "PowerOffRequested", data: { step: "a1:power" } })
    thenRefused(when(given(...behindDeploy), { type: "StartQueued" }), { code: "Conflict", action: "start queued" })
  })

  test("are dropped when the action ahead fails, each with the reason", () => {
    thenEvents(when(given(...behindDeploy), { type: "Fail", error: "disk gone" }),
      { type: "DeployFailed", data: { error: "disk gone" } },
      { type: "QueuedActionDropped", data: { actionId: "a1", reason: "the action it waited for failed (DeployFailed: disk gone)" } },
      { type: "QueuedActionDropped", data: { actionId: "a2", reason: "the queued action a1 ahead of it was dropped: the action it waited for failed (DeployFailed: disk gone)" } })
  })

  test("are cleared by abort, which also aborts the wait", () => {
    thenEvents(when(given(...behindDeploy), { type: "Provision", verb: "abort" }),
      { type: "AbortRequested", data: {} },
      { type: "QueuedActionDropped", data: { actionId: "a1", reason: "aborted" } },
      { type: "QueuedActionDropped", data: { actionId: "a2", reason: "the queued action a1 ahead of it was dropped: aborted" } })
  })

  test("refused when their turn comes (maintenance was set meanwhile) are dropped with the refusal", () => {
    const rebuild: QueuedAction = { kind: "deploy", spec: spec({ deployId }), rebuild: true }
    thenEvents(when(given(...active, queued("a1", rebuild), inMaintenance), { type: "StartQueued" }), {
      type: "QueuedActionDropped",
      data: { actionId: "a1", reason: `Node ${nodeId} is in maintenance; "rebuild" is refused until maintenance is cleared.` },
    })
  })
})
