// decide: given a node's state and a command, the events to record or the reason it is refused.
// Pure: no clock, no I/O. The state is null when the node's stream is empty.
import * as E from "fp-ts/lib/Either.js"
import type { NodeCommand, UserVerb } from "./commands.ts"
import { domainError, invalidTransition, type DomainError } from "./errors.ts"
import { hardwareResults, hardwareSteps, type EventType, type HardwareRequest, type HardwareResult, type NodeEvent } from "./events.ts"
import { next, targetOf, waitStates, deletableStates, type ProvisionState, type Verb } from "./lifecycle.ts"
import { pendingStep, type NodeState } from "./node-state.ts"
import { abortClearing, decideRequest, decideStartQueued, dropQueue } from "./queue.ts"
import { decidePort, portSettingsRefusal } from "./port-record.ts"
import { decideAllocation } from "./allocation.ts"
import { cleanFailureFault, decideNodeExtras } from "./node-extras.ts"
import { decidePortgroup } from "./portgroup-record.ts"
import { decideVolume } from "./volume-record.ts"
import { decideNmi } from "./nmi-record.ts"
import { decideInventory, propertyChanges } from "./inspection.ts"
import { decideDiscovery } from "./discovery.ts"
import { decideRescueReady } from "./rescue.ts"
import { normaliseRecordChange, refuseProtected, refuseRecordChange, refuseRetired } from "./node-record.ts"

type Decision = E.Either<DomainError, ReadonlyArray<NodeEvent>>
const ok = (...events: ReadonlyArray<NodeEvent>): Decision => E.right(events)
const none: Decision = E.right([])

const userVerbs: Record<UserVerb, Verb> = {
  manage: "manage", provide: "provide", clean: "clean", inspect: "inspect", adopt: "adopt",
  undeploy: "delete", rescue: "rescue", unrescue: "unrescue", abort: "abort",
}

const verbEvents: Record<UserVerb, NodeEvent> = {
  manage: { type: "ManageRequested", data: {} },
  provide: { type: "ProvideRequested", data: {} },
  clean: { type: "CleanRequested", data: { automated: false } },
  inspect: { type: "InspectRequested", data: {} },
  adopt: { type: "AdoptRequested", data: {} },
  undeploy: { type: "UndeployRequested", data: {} },
  rescue: { type: "RescueRequested", data: {} },
  unrescue: { type: "UnrescueRequested", data: {} },
  abort: { type: "AbortRequested", data: {} },
}

/** Verbs a node in maintenance refuses: they would drive hardware an operator asked us to leave be. */
const refusedInMaintenance: ReadonlySet<string> = new Set(["provide", "clean", "inspect", "deploy", "rebuild", "rescue", "unrescue"])

/** States in which the conductor is carrying out a step; users wait for them to end. */
const running: ReadonlySet<ProvisionState> = new Set<ProvisionState>([
  "verifying", "cleaning", "deploying", "deleting", "inspecting", "adopting", "rescuing", "unrescuing",
])

/** The event that ends the running operation successfully, by the state it runs in. */
const doneEvents: Partial<Record<ProvisionState, EventType>> = {
  verifying: "Verified", cleaning: "CleaningDone", inspecting: "Inspected", "inspect wait": "Inspected",
  adopting: "Adopted", deploying: "DeployDone", rescuing: "Rescued", unrescuing: "Unrescued",
  deleting: "TearDownDone",
}

const failEvents: Partial<Record<ProvisionState, EventType>> = {
  verifying: "VerificationFailed", cleaning: "CleaningFailed", "clean wait": "CleaningFailed",
  inspecting: "InspectionFailed", "inspect wait": "InspectionFailed", adopting: "AdoptionFailed",
  deploying: "DeployFailed", "wait call-back": "DeployFailed", deleting: "TearDownFailed",
  rescuing: "RescueFailed", "rescue wait": "RescueFailed", unrescuing: "UnrescueFailed",
}

/** Which results may close a pending hardware request: its own done and failed results. */
export const resultsOf = (request: HardwareRequest): ReadonlyArray<HardwareResult> =>
  [hardwareSteps[request].done, hardwareSteps[request].failed]

const powerRequests: ReadonlySet<string> = new Set(["PowerOnRequested", "PowerOffRequested", "RebootRequested", "SoftPowerOffRequested"])

const move = (s: NodeState, action: string, verb: Verb, event: NodeEvent): Decision =>
  next(s.provisionState, verb) === undefined ? E.left(invalidTransition(s.nodeId, action, s.provisionState)) : ok(event)

const refuse = (s: NodeState, code: DomainError["code"], action: string, message: string): Decision =>
  E.left(domainError(code, s.nodeId, action, s.provisionState, message))

const heldByOther = (s: NodeState, holder: string, now: string): boolean =>
  s.lease !== null && s.lease.holder !== holder && Date.parse(s.lease.expiresAt) > Date.parse(now)

const decideProvision = (s: NodeState, c: Extract<NodeCommand, { type: "Provision" }>): Decision => {
  // Edges out of a running step ("cleaning: manage", "deleting: clean") are the conductor's to take.
  if (running.has(s.provisionState)) return E.left(invalidTransition(s.nodeId, c.verb, s.provisionState))
  if (s.maintenance && refusedInMaintenance.has(c.verb)) {
    return refuse(s, "Conflict", c.verb, `Node ${s.nodeId} is in maintenance; "${c.verb}" is refused until maintenance is cleared.`)
  }
  {
    const why = refuseProtected(s, c.verb) ?? refuseRetired(s, c.verb)
    if (why !== null) return refuse(s, "InvalidInput", c.verb, why)
  }
  if (c.cleanSteps !== undefined && c.verb === "clean") {
    return move(s, c.verb, "clean", { type: "CleanRequested", data: { automated: false, steps: [...c.cleanSteps] } })
  }
  if (c.verb === "rescue" && c.rescuePasswordHash !== undefined) {
    return move(s, c.verb, "rescue", { type: "RescueRequested", data: { passwordHash: c.rescuePasswordHash } })
  }
  return move(s, c.verb, userVerbs[c.verb], verbEvents[c.verb])
}

const decideExisting = (s: NodeState, c: Exclude<NodeCommand, { type: "Enroll" }>): Decision => {
  switch (c.type) {
    case "Update": {
      if (c.changes.driver !== undefined && c.changes.driver !== s.driver && !s.maintenance &&
        !["enroll", "manageable", "available"].includes(s.provisionState)) {
        return refuse(s, "Conflict", "update", `The driver of node ${s.nodeId} can only change in enroll, manageable or available, or in maintenance.`)
      }
      const recordRefusal = refuseRecordChange(s, normaliseRecordChange(c.changes))
      if (recordRefusal !== null) return refuse(s, recordRefusal.code, "update", recordRefusal.message)
      // An undefined value would blank the field live but vanish from the stored JSON: drop it here.
      const changes = Object.fromEntries(Object.entries(normaliseRecordChange(c.changes)).filter(([, v]) => v !== undefined))
      return Object.keys(changes).length === 0 ? none : ok({ type: "NodeUpdated", data: changes })
    }
    case "Delete":
      if (refuseProtected(s, "delete") !== null) return refuse(s, "InvalidInput", "delete", refuseProtected(s, "delete")!)
      if (!deletableStates.includes(s.provisionState) && !s.maintenance) {
        return refuse(s, "Conflict", "delete", `Node ${s.nodeId} can not be deleted while it is in state "${s.provisionState}" and not in maintenance.`)
      }
      return ok(...dropQueue(s, "the node was deleted"), { type: "NodeDeleted", data: {} })
    case "AddPort":
      if (s.ports.some((p) => p.mac === c.mac || p.portId === c.portId)) {
        return refuse(s, "AlreadyExists", "add port", `A port with MAC address ${c.mac} already exists.`)
      }
      if (c.settings === undefined || Object.keys(c.settings).length === 0) return ok({ type: "PortAdded", data: { portId: c.portId, mac: c.mac } })
      {
        // A port created with settings: added and set in one append, checked as an update is.
        const why = portSettingsRefusal(s, c.portId, c.settings)
        if (why !== null) return refuse(s, "InvalidInput", "add port", why)
        return ok({ type: "PortAdded", data: { portId: c.portId, mac: c.mac } }, { type: "PortUpdated", data: { portId: c.portId, changes: c.settings } })
      }
    case "RemovePort": {
      const port = s.ports.find((p) => p.portId === c.portId)
      if (!port) return refuse(s, "NotFound", "remove port", `Port ${c.portId} could not be found on node ${s.nodeId}.`)
      return ok({ type: "PortRemoved", data: { portId: port.portId, mac: port.mac } })
    }
    case "AssignAllocation": case "RemoveAllocation": case "UpdateAllocation": {
      const d = decideAllocation(s, c)
      return d.ok ? ok(d.event) : refuse(s, d.code, c.type, d.message)
    }
    case "AddTrait": case "RemoveTrait": case "RecordFault": case "ClearFault": case "RecordNetworkEvent": case "RecordIndicator": {
      const d = decideNodeExtras(s, c)
      return d.ok ? ok(...d.events) : refuse(s, d.code, c.type, d.message)
    }
    case "UpdatePort": case "AttachVif": case "DetachVif": {
      const d = decidePort(s, c)
      return d.ok ? ok(...d.events) : refuse(s, d.code, c.type, d.message)
    }
    case "CreatePortgroup": case "UpdatePortgroup": case "DeletePortgroup": {
      const d = decidePortgroup(s, c)
      return d.ok ? ok(d.event) : refuse(s, d.code, c.type, d.message)
    }
    case "CreateVolumeConnector": case "UpdateVolumeConnector": case "DeleteVolumeConnector":
    case "CreateVolumeTarget": case "UpdateVolumeTarget": case "DeleteVolumeTarget": {
      const d = decideVolume(s, c)
      return d.ok ? ok(d.event) : refuse(s, d.code, c.type, d.message)
    }
    case "RequestNmi": case "RecordNmi": return ok(decideNmi(c))
    case "SetMaintenance":
      if (c.on) return ok({ type: "MaintenanceSet", data: { reason: c.reason } })
      return s.maintenance ? ok({ type: "MaintenanceCleared", data: {} }) : none
    case "SetConsole":
      if (c.on === s.consoleEnabled) return none
      return ok(c.on ? { type: "ConsoleEnabled", data: {} } : { type: "ConsoleDisabled", data: {} })
    case "OpenConsoleConnection":
      if (!s.consoleEnabled) return refuse(s, "Conflict", "console connect", `The console of node ${s.nodeId} is not enabled.`)
      return ok({ type: "ConsoleConnectionOpened", data: c.data })
    case "CloseConsoleConnection":
      return ok({ type: "ConsoleConnectionClosed", data: c.data })
    case "Provision":
      return c.verb === "abort" ? abortClearing(s, decideProvision(s, c)) : decideProvision(s, c)
    case "Request": return decideRequest(s, c, decideExisting)
    case "StartQueued": return decideStartQueued(s, decideExisting)
    case "Discover": return decideDiscovery(s, c)
    case "Deploy": {
      const action = c.rebuild ? "rebuild" : "deploy"
      if (s.maintenance) return refuse(s, "Conflict", action, `Node ${s.nodeId} is in maintenance; "${action}" is refused until maintenance is cleared.`)
      if (c.rebuild && refuseProtected(s, "rebuild") !== null) return refuse(s, "InvalidInput", action, refuseProtected(s, "rebuild")!)
      if (c.spec.imageKind === "partition" && c.spec.rootGb < 1) {
        return refuse(s, "InvalidInput", action, "A partition image needs root_gb of at least 1.")
      }
      if (c.spec.preserveEphemeral && (!c.rebuild || s.deploy === null)) {
        return refuse(s, "InvalidInput", action, "preserve_ephemeral applies only to a rebuild of a deployed node.")
      }
      return move(s, action, c.rebuild ? "rebuild" : "deploy", { type: "DeployRequested", data: { ...c.spec, rebuild: c.rebuild } })
    }
    case "AwaitCallback":
      return move(s, "wait", "wait", { type: "CallbackAwaited", data: { deadline: c.deadline } })
    case "AcceptIscsi": {
      const d = s.deploy
      if (s.provisionState !== "wait call-back" || d === null) {
        return refuse(s, "CallbackRefused", "pass_deploy_info", `Node ${s.nodeId} is not waiting for a deploy call-back (state "${s.provisionState}").`)
      }
      if (d.deployId !== c.deployId) return refuse(s, "CallbackRefused", "pass_deploy_info", `The call-back names deploy ${c.deployId}, but the running deploy is ${d.deployId}.`)
      if (d.callbackUsed) return refuse(s, "CallbackRefused", "pass_deploy_info", "The deploy key was already used.")
      return ok({ type: "IscsiReady", data: { deployId: c.deployId, target: c.target } })
    }
    case "AcceptCallback":
      if (s.provisionState === "wait call-back") {
        return refuse(s, "CallbackRefused", "call-back", "A deploy call-back must carry the iSCSI target.")
      }
      return move(s, "call-back", "resume", { type: "CallbackReceived", data: c.data })
    case "IssueRamdiskKey":
      if (!["cleaning", "inspecting", "rescuing"].includes(s.provisionState)) return E.left(invalidTransition(s.nodeId, "issue ramdisk key", s.provisionState))
      return ok({ type: "RamdiskKeyIssued", data: { keyHash: c.keyHash, sealedKey: c.sealedKey } })
    case "AcceptCleaningIscsi": {
      const r = s.cleaningRamdisk
      if (s.provisionState !== "clean wait" || r === null) {
        return refuse(s, "CallbackRefused", "pass_deploy_info", `Node ${s.nodeId} is not waiting for a cleaning ramdisk (state "${s.provisionState}").`)
      }
      if (r.target !== null) return refuse(s, "CallbackRefused", "pass_deploy_info", "The ramdisk key was already used.")
      return ok({ type: "RamdiskReady", data: { target: c.target } })
    }
    case "AcceptInventory": return decideInventory(s, c)
    case "AcceptRescueReady": return decideRescueReady(s, c)
    case "RejectCallback":
      return ok({ type: "CallbackRejected", data: { reason: c.reason, count: c.count, sources: [...c.sources] } })
    case "TimeOutWait":
      if (!waitStates.includes(s.provisionState) || s.waitDeadline === null) {
        return refuse(s, "Conflict", "time out", `Node ${s.nodeId} is not waiting (state "${s.provisionState}").`)
      }
      if (Date.parse(c.now) < Date.parse(s.waitDeadline)) {
        return refuse(s, "Conflict", "time out", `The wait of node ${s.nodeId} runs until ${s.waitDeadline}.`)
      }
      return ok({ type: "WaitTimedOut", data: { deadline: s.waitDeadline } }, ...dropQueue(s, `the action it waited for timed out (deadline ${s.waitDeadline})`))
    case "Complete": {
      const manualClean = s.provisionState === "cleaning" && s.operation?.kind === "manual clean"
      const type = manualClean ? "ManualCleaningDone" : doneEvents[s.provisionState]
      if (type === undefined) return E.left(invalidTransition(s.nodeId, "done", s.provisionState))
      switch (type) {
        case "DeployDone":
          if (!s.deploy) return refuse(s, "Conflict", "done", `Node ${s.nodeId} has no deploy running.`)
          if (!s.deploy.imageWritten && c.imageless !== true) return refuse(s, "Conflict", "done", `The image of node ${s.nodeId} has not been written yet.`)
          return ok({ type, data: { deployId: s.deploy.deployId } })
        case "Inspected": return ok({ type, data: { properties: c.properties ?? {}, changes: propertyChanges(s.properties, c.properties ?? {}) } })
        default: return ok({ type, data: {} } as NodeEvent)
      }
    }
    case "Fail": {
      const type = failEvents[s.provisionState]
      if (type === undefined) return E.left(invalidTransition(s.nodeId, "fail", s.provisionState))
      return ok({ type, data: { error: c.error } } as NodeEvent, ...cleanFailureFault(s, c.error), ...dropQueue(s, `the action it waited for failed (${type}: ${c.error})`))
    }
    case "RequestHardware": {
      const { step } = c.request.data
      if (pendingStep(s, step)) return refuse(s, "Conflict", c.request.type, `Step ${step} was already requested.`)
      if (powerRequests.has(c.request.type) &&
        s.pendingSteps.some((p) => powerRequests.has(p.action))) {
        return refuse(s, "Conflict", c.request.type, `Node ${s.nodeId} is busy with another power action.`)
      }
      return ok(c.request)
    }
    case "RecordHardware": {
      const { step } = c.result.data
      const pending = pendingStep(s, step)
      if (!pending) return refuse(s, "Conflict", c.result.type, `No step ${step} is waiting for a result.`)
      if (!resultsOf(pending.action).includes(c.result.type)) {
        return refuse(s, "InvalidInput", c.result.type, `Step ${step} (${pending.action}) can not end with ${c.result.type}.`)
      }
      if (c.result.type === "ImageWritten" && c.result.data.deployId !== s.deploy?.deployId) {
        return refuse(s, "Conflict", c.result.type, `Image written for deploy ${c.result.data.deployId}, not the running one.`)
      }
      // A user's power action failing outside an operation fails what was queued behind it too.
      const failedAlone = !hardwareResults[c.result.type] && targetOf(s.provisionState) === null
      return ok(c.result, ...(failedAlone ? dropQueue(s, `the action it waited for failed (${c.result.type}${"error" in c.result.data ? `: ${c.result.data.error}` : ""})`) : []))
    }
    case "ObservePower":
      return c.powerState === s.powerState ? none : ok({ type: "PowerStateObserved", data: { powerState: c.powerState } })
    case "CacheBiosSettings":
      return ok({ type: "BiosSettingsCached", data: { settings: [...c.settings] } })
    case "CacheFirmwareComponents":
      return ok({ type: "FirmwareComponentsCached", data: { components: [...c.components] } })
    case "AcquireLease":
      if (heldByOther(s, c.holder, c.now)) {
        return refuse(s, "Conflict", "acquire lease", `Node ${s.nodeId} is locked by ${s.lease!.holder} until ${s.lease!.expiresAt}.`)
      }
      return ok({ type: "LeaseAcquired", data: { holder: c.holder, expiresAt: c.expiresAt } })
    case "ReleaseLease":
      return s.lease?.holder === c.holder ? ok({ type: "LeaseReleased", data: { holder: c.holder } }) : none
    case "AsConductor":
      if (s.lease?.holder !== c.holder || Date.parse(s.lease.expiresAt) <= Date.parse(c.now)) {
        return refuse(s, "Conflict", c.command.type, `Conductor ${c.holder} does not hold the lease of node ${s.nodeId}.`)
      }
      return decideExisting(s, c.command)
  }
}

export const decide = (state: NodeState | null, c: NodeCommand, nodeId: string): Decision => {
  if (c.type === "Enroll") {
    if (state !== null) return E.left(domainError("AlreadyExists", nodeId, "enroll", state.provisionState, `Node ${nodeId} already exists.`))
    return ok({
      type: "Enrolled",
      data: {
        nodeId: c.nodeId, name: c.name, driver: c.driver, driverInfo: c.driverInfo,
        properties: c.properties, instanceInfo: c.instanceInfo, extra: c.extra,
        ...(c.interfaces === undefined ? {} : { interfaces: c.interfaces }),
        ...(c.automatedClean === undefined ? {} : { automatedClean: c.automatedClean }),
        ...c.record,
      },
    })
  }
  if (c.type === "Discover") return decideDiscovery(state, c)
  if (state === null || state.deleted) {
    return E.left(domainError("NotFound", nodeId, c.type, "absent", `Node ${nodeId} could not be found.`))
  }
  return decideExisting(state, c)
}
