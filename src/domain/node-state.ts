// The node aggregate's state and evolve: a pure fold of its events. Projections and decide share it.
import type { ProvisionState, PowerState, Verb } from "./lifecycle.ts"
import { next, targetOf } from "./lifecycle.ts"
import type { CleanStep, DeploySpec, Driver, DriverInfo, EventMeta, IscsiTarget, NodeEvent, NodeInterfaces, QueuedAction, Sealed } from "./events.ts"
import { hardwareRequests, hardwareResults, type HardwareRequest } from "./events.ts"
import type { HardwareRequestBody } from "./commands.ts"
import type { Uuid } from "./values.ts"
import type { AllocationState } from "./allocation.ts"
import { evolvePorts, type PortState } from "./port-record.ts"
import { evolvePortgroups, type PortgroupState } from "./portgroup-record.ts"
import { evolveVolumes, type VolumeConnectorState, type VolumeTargetState } from "./volume-record.ts"
import { recordDefaults, recordFieldsOf, type RecordFields } from "./node-record.ts"
import { raidConfigAfter } from "./raid.ts"
import { fieldsOrShared, itemsOrShared, noFields, noItems, textOrShared } from "./shared-values.ts"

export interface PendingStep {
  /** The step's key: (operation, step name). */
  readonly step: string
  readonly action: HardwareRequest
  readonly requestedAt: string
  /** The request as asked, so a restarted conductor can carry it out again. */
  readonly request: HardwareRequestBody
}

export interface DeployState extends DeploySpec {
  readonly rebuild: boolean
  readonly iscsi: IscsiTarget | null
  /** The ramdisk's key is single use: set once a call-back was accepted. */
  readonly callbackUsed: boolean
  readonly rootUuid: string | null
  readonly imageWritten: boolean
}

/** The ramdisk a cleaning boots to wipe the disk: its key, and the disk it exported. */
export interface CleaningRamdisk {
  readonly keyHash: string
  readonly sealedKey: Sealed
  readonly target: IscsiTarget | null
}

export interface StoredInventory {
  readonly operationId: string
  readonly receivedAt: string
  readonly data: Record<string, unknown>
  /** The disk the ramdisk would install to, when it said. */
  readonly rootDisk?: string
  /** What inspection rules added (ADR 0142): plugin data, the properties they set, a rule's failure. */
  readonly pluginData?: Record<string, unknown>
  readonly ruleProperties?: Record<string, unknown>
  readonly ruleFailure?: string
}

/** The operation a node is going through: started by a provision request, named by its correlation id. */
export interface Operation {
  readonly id: string
  readonly kind: string
  readonly startedAt: string
  /** Outcome of each hardware step of this operation that has one, in order. */
  readonly steps: ReadonlyArray<{ readonly step: string; readonly outcome: "ok" | "failed" }>
  /** A manual clean's steps as asked for; absent: the configured automated steps. */
  readonly cleanSteps?: ReadonlyArray<CleanStep>
  /** A rescue's password, as crypt SHA-512 (ADR 0095): what the rescue ramdisk is given. */
  readonly rescuePasswordHash?: string
  /** The rescue ramdisk reported its login up (ADR 0095). */
  readonly rescueReady?: true
}

export interface NodeState extends RecordFields {
  /** The allocation bound to the node (API 1.52), if any. */
  readonly allocation: AllocationState | null
  readonly nodeId: Uuid
  readonly revision: number
  readonly deleted: boolean
  readonly name: string | null
  readonly driver: Driver
  readonly driverInfo: DriverInfo
  /** Interfaces chosen for this node; a slot left out takes its hardware type's default. */
  readonly interfaces: NodeInterfaces
  /** Whether provide and tear-down clean the node; null: the service's default. */
  readonly automatedClean: boolean | null
  readonly properties: Record<string, unknown>
  readonly instanceInfo: Record<string, unknown>
  readonly extra: Record<string, unknown>
  readonly provisionState: ProvisionState
  readonly targetProvisionState: ProvisionState | null
  readonly powerState: PowerState | null
  readonly targetPowerState: PowerState | null
  readonly maintenance: boolean
  readonly maintenanceReason: string | null
  /** Whether the serial console is served (console_enabled). */
  readonly consoleEnabled: boolean
  readonly lastError: string | null
  readonly ports: ReadonlyArray<PortState>
  /** Port groups (API 1.23), volume connectors and targets (API 1.32). */
  readonly portgroups: ReadonlyArray<PortgroupState>
  readonly volumeConnectors: ReadonlyArray<VolumeConnectorState>
  readonly volumeTargets: ReadonlyArray<VolumeTargetState>
  readonly deploy: DeployState | null
  readonly waitDeadline: string | null
  /** Hardware steps asked for and not answered yet (a short list: usually none or one). */
  readonly pendingSteps: ReadonlyArray<PendingStep>
  readonly operation: Operation | null
  readonly cleaningRamdisk: CleaningRamdisk | null
  /** The last inventory an inspection's ramdisk posted (Ironic 1.81's node inventory), kept after it. */
  readonly inventory: StoredInventory | null
  /** The conductor driving the node and until when; only it may record conductor steps. */
  readonly lease: { readonly holder: string; readonly expiresAt: string } | null
  readonly createdAt: string
  readonly updatedAt: string
  readonly provisionUpdatedAt: string
  /** Power and provision requests waiting for the action running now, oldest first (ADR 0050). */
  readonly queue: ReadonlyArray<QueuedItem>
  /** Ironic's fault: why the conductor put the node in maintenance (absent in older snapshots). */
  readonly fault?: string | null
  /** Set when the node was created by discovery (ADR 0090): Ironic's auto_discovered. */
  readonly discovered?: DiscoveredState
}

export interface DiscoveredState {
  readonly at: string
  readonly bmcAddress: string | null
  readonly autoEnroll: boolean
}

export interface QueuedItem {
  readonly actionId: string
  readonly action: QueuedAction
  readonly queuedAt: string
}

/** Which table verb an event applies, if it moves the provision state at all. */
export const verbOf = (event: NodeEvent): Verb | undefined => {
  switch (event.type) {
    case "ManageRequested": return "manage"
    case "ProvideRequested": return "provide"
    case "CleanRequested": return "clean"
    case "InspectRequested": return "inspect"
    case "AdoptRequested": return "adopt"
    case "DeployRequested": return event.data.rebuild ? "rebuild" : "deploy"
    case "UndeployRequested": return "delete"
    case "RescueRequested": return "rescue"
    case "UnrescueRequested": return "unrescue"
    case "AbortRequested": return "abort"
    case "CallbackAwaited": return "wait"
    case "IscsiReady": case "CallbackReceived": case "RamdiskReady": case "InventoryReceived": return "resume"
    case "RescueRamdiskReady": return "resume"
    // The ramdisk's outcome of an in-band step ends the clean wait it ran in.
    case "CleanStepDone": case "CleanStepFailed": return "resume"
    case "Verified": case "CleaningDone": case "Inspected": case "Adopted":
    case "DeployDone": case "Rescued": case "Unrescued":
      return "done"
    case "TearDownDone": return "clean"
    case "ManualCleaningDone": return "manage"
    case "VerificationFailed": case "CleaningFailed": case "InspectionFailed": case "AdoptionFailed":
    case "DeployFailed": case "TearDownFailed": case "RescueFailed": case "UnrescueFailed":
    case "WaitTimedOut":
      return "fail"
    default: return undefined
  }
}

const powerAfterRequest: Partial<Record<NodeEvent["type"], PowerState>> = {
  PowerOnRequested: "power on",
  PowerOffRequested: "power off",
  RebootRequested: "rebooting",
  SoftPowerOffRequested: "soft power off",
}

// Every field is named in the literal, the record fields too (from recordDefaults): V8 gives an
// object literal's named fields room inside the object, but fields added by a spread go to a
// separate property array, one more object per node (36 fields inside and 14 outside, before).
const r = recordDefaults
export const initialState = (nodeId: Uuid): NodeState => ({
  nodeId, revision: -1, deleted: false, name: null, driver: "fake-hardware" as Driver, driverInfo: noFields, interfaces: noFields, automatedClean: null,
  properties: noFields, instanceInfo: noFields, extra: noFields, provisionState: "enroll", targetProvisionState: null,
  powerState: null, targetPowerState: null, maintenance: false, maintenanceReason: null, consoleEnabled: false, lastError: null,
  ports: noItems, deploy: null, waitDeadline: null, pendingSteps: noItems, operation: null, cleaningRamdisk: null, lease: null, createdAt: "", updatedAt: "",
  provisionUpdatedAt: "", queue: noItems,
  instanceUuid: r.instanceUuid, allocationUuid: r.allocationUuid, description: r.description, owner: r.owner, lessee: r.lessee,
  resourceClass: r.resourceClass, conductorGroup: r.conductorGroup, traits: r.traits, protected: r.protected, protectedReason: r.protectedReason,
  retired: r.retired, retiredReason: r.retiredReason, networkData: r.networkData, targetRaidConfig: r.targetRaidConfig, raidConfig: r.raidConfig,
  allocation: null, inventory: null, portgroups: noItems, volumeConnectors: noItems, volumeTargets: noItems,
})

type Draft = { -readonly [K in keyof NodeState]: NodeState[K] }

// Step keys are unique strings; as object keys each would make V8 a new hidden class, so steps
// are kept in short arrays instead.
/** A cleaning step the ramdisk runs: the conductor waits for its outcome instead of carrying it out. */
export const isInBand = (p: PendingStep): boolean => p.request.type === "CleanStepRequested" && p.request.data.where === "in-band"

export const pendingStep = (s: NodeState, step: string): PendingStep | undefined => s.pendingSteps.find((p) => p.step === step)
export const stepOutcome = (op: Operation | null, step: string): "ok" | "failed" | undefined =>
  op?.steps.find((o) => o.step === step)?.outcome

/**
 * Applies the fields an event carries to a fresh copy of the state. The copy is written in place
 * (one copy per event: replay speed), nested values are replaced, never mutated, so the state
 * passed to evolve is untouched.
 */
const applyFacts = (d: Draft, event: NodeEvent, meta: EventMeta, at: string): void => {
  switch (event.type) {
    case "Enrolled": {
      const e = event.data
      d.name = e.name; d.driver = textOrShared(e.driver); d.driverInfo = fieldsOrShared(e.driverInfo); d.properties = fieldsOrShared(e.properties)
      d.instanceInfo = fieldsOrShared(e.instanceInfo); d.extra = fieldsOrShared(e.extra); d.createdAt = at
      d.interfaces = fieldsOrShared(e.interfaces ?? noFields); d.automatedClean = e.automatedClean ?? null
      d.provisionUpdatedAt = at
      Object.assign(d, recordFieldsOf(e))
      return
    }
    case "NodeUpdated": Object.assign(d, event.data); return
    case "NodeDeleted": d.deleted = true; return
    case "PortAdded": d.ports = [...d.ports, { ...event.data, addedAt: at }]; return
    case "PortRemoved": d.ports = itemsOrShared(d.ports.filter((p) => p.portId !== event.data.portId)); return
    case "AllocationAssigned": {
      const a = event.data
      d.allocation = { ...a, createdAt: at }; d.allocationUuid = a.allocationId
      // Ironic: the node's instance_uuid becomes the allocation's, unless the node had one.
      d.instanceUuid = d.instanceUuid ?? a.allocationId
      return
    }
    case "AllocationUpdated":
      if (d.allocation?.allocationId === event.data.allocationId) {
        d.allocation = { ...d.allocation, ...(event.data.name === undefined ? {} : { name: event.data.name }), ...(event.data.extra === undefined ? {} : { extra: event.data.extra }), updatedAt: at }
      }
      return
    case "AllocationRemoved":
      if (d.instanceUuid === event.data.allocationId) d.instanceUuid = null
      d.allocation = null; d.allocationUuid = null
      return
    case "PortUpdated": case "VifAttached": case "VifDetached": d.ports = evolvePorts(d.ports, event, at); return
    case "PortgroupCreated": case "PortgroupUpdated": case "PortgroupDeleted": d.portgroups = evolvePortgroups(d.portgroups, event, at); return
    case "VolumeConnectorCreated": case "VolumeConnectorUpdated": case "VolumeConnectorDeleted":
    case "VolumeTargetCreated": case "VolumeTargetUpdated": case "VolumeTargetDeleted":
      Object.assign(d, evolveVolumes(d, event, at)); return
    // An NMI changes nothing the node records; a failed one is the requester's answer, not the node's last_error.
    case "NmiRequested": case "NmiInjected": case "NmiFailed": return
    case "MaintenanceSet": d.maintenance = true; d.maintenanceReason = event.data.reason; return
    // Ironic clears the fault with the maintenance it caused, however maintenance ends.
    case "MaintenanceCleared": case "FaultCleared": d.maintenance = false; d.maintenanceReason = null; d.fault = null; return
    case "FaultRecorded": d.maintenance = true; d.maintenanceReason = event.data.reason; d.fault = event.data.fault; return
    case "ConsoleEnabled": d.consoleEnabled = true; return
    case "ConsoleDisabled": d.consoleEnabled = false; return
    case "LeaseAcquired": d.lease = event.data; return
    case "LeaseReleased": d.lease = null; return
    case "DeployRequested": {
      const spec = event.data
      d.lastError = null
      d.deploy = deployStateOf(spec)
      const kind = d.deploy.imageKind
      // preserve_ephemeral is read once, by the rebuild that asked for it: later rebuilds start without it.
      const { preserve_ephemeral: _asked, ...info } = d.instanceInfo
      d.instanceInfo = { ...info, image_source: spec.imageSource, image_type: kind,
        root_gb: spec.rootGb, swap_mb: spec.swapMb, ephemeral_gb: spec.ephemeralGb }
      return
    }
    case "IscsiReady":
      if (d.deploy) d.deploy = { ...d.deploy, iscsi: event.data.target, callbackUsed: true }
      return
    case "ImageWritten":
      if (d.deploy) d.deploy = { ...d.deploy, rootUuid: event.data.rootUuid, imageWritten: true }
      return
    case "CallbackAwaited": d.waitDeadline = event.data.deadline; return
    case "RamdiskKeyIssued": d.cleaningRamdisk = { ...event.data, target: null }; return
    case "RamdiskReady":
      if (d.cleaningRamdisk) d.cleaningRamdisk = { ...d.cleaningRamdisk, target: event.data.target }
      return
    case "InventoryReceived":
      d.inventory = {
        operationId: d.operation?.id ?? meta.correlationId, receivedAt: at, data: event.data.inventory,
        ...(event.data.rootDisk === undefined ? {} : { rootDisk: event.data.rootDisk }),
      }
      return
    case "InspectionRulesApplied": {
      const r = event.data
      if (r.setProperties !== undefined || r.removedProperties !== undefined) {
        const props: Record<string, unknown> = { ...d.properties, ...r.setProperties }
        for (const k of r.removedProperties ?? []) delete props[k]
        d.properties = props
      }
      if (r.driverInfo !== undefined) d.driverInfo = r.driverInfo
      if (r.extra !== undefined) d.extra = r.extra
      if (r.traits !== undefined) d.traits = r.traits
      if (r.failed !== undefined) d.lastError = r.failed
      if (d.inventory !== null) {
        d.inventory = {
          ...d.inventory, ...(r.pluginData === undefined ? {} : { pluginData: r.pluginData }),
          ...(r.setProperties === undefined ? {} : { ruleProperties: r.setProperties }), ...(r.failed === undefined ? {} : { ruleFailure: r.failed }),
        }
      }
      return
    }
    case "Discovered": d.discovered = { at, bmcAddress: event.data.bmcAddress, autoEnroll: event.data.autoEnroll }; return
    case "Inspected": d.properties = { ...d.properties, ...event.data.properties }; return
    case "RescueRamdiskReady": if (d.operation) d.operation = { ...d.operation, rescueReady: true }; return
    // Ironic's tear down frees the node: instance_info, the instance and its allocation go.
    case "TearDownDone": d.deploy = null; d.instanceInfo = noFields; d.instanceUuid = null; d.allocationUuid = null; d.allocation = null; return
    case "ManageRequested": case "ProvideRequested": case "CleanRequested": case "InspectRequested":
    case "AdoptRequested": case "RescueRequested": case "UnrescueRequested": case "UndeployRequested":
      d.lastError = null
      return
    case "PowerStateChanged": d.powerState = event.data.powerState; d.targetPowerState = null; return
    case "PowerStateObserved": d.powerState = event.data.powerState; return
    case "PowerActionFailed": d.targetPowerState = null; d.lastError = event.data.error; return
    case "WaitTimedOut": d.lastError = `timed out waiting for the ramdisk (deadline ${event.data.deadline})`; return
    case "ActionQueued": d.queue = [...d.queue, { ...event.data, queuedAt: at }]; return
    case "QueuedActionStarted": case "QueuedActionDropped": {
      const index = d.queue.findIndex((q) => q.actionId === event.data.actionId)
      if (index >= 0) d.queue = itemsOrShared([...d.queue.slice(0, index), ...d.queue.slice(index + 1)])
      return
    }
    default:
      if ("error" in event.data && typeof event.data.error === "string") d.lastError = event.data.error
  }
}

/**
 * The deploy a request starts, every field written in one literal: a copy of the request's fields
 * with five more added held them in a second object (a property array) beside the deploy's own,
 * one more object per deployed node for the collector to mark. Optional fields follow only when set.
 */
const deployStateOf = (spec: DeploySpec & { readonly rebuild: boolean }): DeployState => {
  const deploy: DeployState = {
    deployId: spec.deployId, keyHash: spec.keyHash, sealedKey: spec.sealedKey, imageSource: spec.imageSource,
    imageKind: textOrShared(spec.imageKind) as DeployState["imageKind"], rootGb: spec.rootGb, swapMb: spec.swapMb, ephemeralGb: spec.ephemeralGb,
    preserveEphemeral: spec.preserveEphemeral, rebuild: spec.rebuild, iscsi: null, callbackUsed: false, rootUuid: null, imageWritten: false,
  }
  if (spec.configDrive === undefined && spec.deploySteps === undefined) return deploy
  return {
    ...deploy, ...(spec.configDrive === undefined ? {} : { configDrive: spec.configDrive }),
    ...(spec.deploySteps === undefined ? {} : { deploySteps: spec.deploySteps }),
  }
}

/** Events that begin a new operation on the node; its steps are keyed under the new correlation id. */
const operationStarts: Partial<Record<NodeEvent["type"], string>> = {
  ManageRequested: "verify", ProvideRequested: "clean", CleanRequested: "clean", InspectRequested: "inspect",
  AdoptRequested: "adopt", DeployRequested: "deploy", UndeployRequested: "tear down", RescueRequested: "rescue",
  UnrescueRequested: "unrescue", AbortRequested: "abort",
}

/** A RAID cleaning step's result is the node's raid_config (raid.ts). */
const raidConfigOfStep = (pending: ReadonlyArray<PendingStep>, step: string, details: Readonly<Record<string, unknown>> | undefined) => {
  const p = pending.find((x) => x.step === step)
  return p?.request.type === "CleanStepRequested" ? raidConfigAfter(p.request.data.name, details) : undefined
}

const trackSteps = (d: Draft, event: NodeEvent, meta: EventMeta, at: string): void => {
  const kind = event.type === "DeployRequested" && event.data.rebuild ? "rebuild"
    : event.type === "CleanRequested" && !event.data.automated ? "manual clean"
    : operationStarts[event.type]
  if (kind !== undefined) {
    const cleanSteps = event.type === "CleanRequested" ? event.data.steps : undefined
    const passwordHash = event.type === "RescueRequested" ? event.data.passwordHash : undefined
    d.operation = {
      id: meta.correlationId, kind, startedAt: at, steps: noItems, ...(cleanSteps === undefined ? {} : { cleanSteps }),
      ...(passwordHash === undefined ? {} : { rescuePasswordHash: passwordHash }),
    }
    d.cleaningRamdisk = null
    return
  }
  if (event.type in hardwareRequests) {
    const step = (event.data as { step: string }).step
    d.targetPowerState = powerAfterRequest[event.type] ?? d.targetPowerState
    d.pendingSteps = [...d.pendingSteps, {
      step, action: event.type as HardwareRequest, requestedAt: at, request: event as HardwareRequestBody,
    }]
    return
  }
  if (event.type in hardwareResults) {
    const step = (event.data as { step: string }).step
    const outcome = hardwareResults[event.type as keyof typeof hardwareResults] ? "ok" : "failed"
    const raid = event.type === "CleanStepDone" ? raidConfigOfStep(d.pendingSteps, step, event.data.details) : undefined
    if (raid !== undefined) d.raidConfig = raid
    d.pendingSteps = itemsOrShared(d.pendingSteps.filter((p) => p.step !== step))
    if (d.operation) d.operation = { ...d.operation, steps: [...d.operation.steps, { step, outcome }] }
  }
}

/**
 * evolve's core: folds the event into `target` itself. Only for a state no one else holds (evolve's
 * own fresh copy, or a replay's state it made itself and has not published): every other holder of
 * a state (caches keyed on it, watchers, checkpoints) relies on states never changing. Nested values
 * are still replaced, never mutated, so they may be shared with older states.
 */
export const evolveInPlace = (target: NodeState, event: NodeEvent, meta: EventMeta): void => {
  const d = target as Draft
  const at = timeHeld(d, meta.occurredAt)
  // Read before the event's facts are written: the transition starts from the state as it was.
  const was = d.provisionState
  const revision = d.revision
  applyFacts(d, event, meta, at)
  trackSteps(d, event, meta, at)
  d.revision = revision + 1
  d.updatedAt = at
  // A clean step's outcome resumes a cleaning only: recorded elsewhere it moves nothing.
  const stepOutcomeElsewhere = (event.type === "CleanStepDone" || event.type === "CleanStepFailed") && was !== "clean wait"
  const verb = stepOutcomeElsewhere ? undefined : verbOf(event)
  const moved = verb === undefined ? undefined : next(was, verb)
  if (moved !== undefined) {
    d.provisionState = moved
    d.targetProvisionState = targetOf(moved)
    d.provisionUpdatedAt = at
    // Leaving a wait state ends its deadline.
    if (event.type !== "CallbackAwaited") d.waitDeadline = null
    // An in-band step the ramdisk has not answered dies with the cleaning it belonged to.
    if (moved !== "cleaning" && moved !== "clean wait" && d.pendingSteps.some(isInBand)) d.pendingSteps = itemsOrShared(d.pendingSteps.filter((p) => !isInBand(p)))
  }
}

/**
 * The event's time as the string the node already holds, when the two are equal: each decoded
 * event brings its own copy of the text, and each copy a node keeps (updatedAt, provisionUpdatedAt,
 * its operation's startedAt) is one more object for a full collection to mark. Strings compare by
 * value, so an equal one is taken from the node whichever object it is.
 */
const timeHeld = (d: Draft, at: string): string =>
  at === d.updatedAt ? d.updatedAt : at === d.provisionUpdatedAt ? d.provisionUpdatedAt : at

/** The state after one more event: a copy, the state given is untouched. */
export const evolve = (s: NodeState, event: NodeEvent, meta: EventMeta): NodeState => {
  const d: Draft = { ...s }
  evolveInPlace(d, event, meta)
  return d
}

export const fold = (
  nodeId: Uuid,
  events: Iterable<{ readonly event: NodeEvent; readonly meta: EventMeta }>,
): NodeState => {
  let s = initialState(nodeId)
  for (const e of events) s = evolve(s, e.event, e.meta)
  return s
}
