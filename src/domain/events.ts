// Every fact the log can hold about a node, each an io-ts codec of its persisted shape.
// Events are past tense. Hardware actions come as a requested/result pair sharing a `step` key,
// so a replay never re-runs hardware and an auditor sees what was asked, what came of it, how long.
import * as t from "io-ts"
import { Iqn, Mac, NodeName, NonNegativeInt, PortNumber, Uuid } from "./values.ts"
import { powerStates, provisionStates } from "./lifecycle.ts"
import { recordFields } from "./node-record.ts"
import { portEventData } from "./port-record.ts"
import { allocationEventData } from "./allocation.ts"
import { nodeExtrasEventData } from "./node-extras.ts"
import { DeployStep } from "./deploy-steps.ts"
import { BiosRegistryEntry } from "./bios-registry.ts"
import { portgroupEventData } from "./portgroup-record.ts"
import { volumeEventData } from "./volume-record.ts"
import { nmiEventData } from "./nmi-record.ts"

const Json = t.UnknownRecord
const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null])
const literals = <const L extends readonly [string, string, ...string[]]>(values: L, name: string) =>
  t.union(values.map((v) => t.literal(v)) as unknown as [t.LiteralC<L[number]>, t.LiteralC<L[number]>], name)

/**
 * A hardware type's name (Ironic's `driver`). A validated string, not a closed list: a new vendor
 * registers its hardware type with the service and the stored events need no change.
 */
const registeredName = (name: string) => {
  const valid = (u: unknown): u is string => typeof u === "string" && /^[a-z][a-z0-9_-]{0,63}$/.test(u)
  return new t.Type<string, string, unknown>(name, valid, (u, c) => (valid(u) ? t.success(u) : t.failure(u, c)), t.identity)
}
export const Driver = registeredName("Driver")
export type Driver = string

/** The interfaces a hardware type is made of (Ironic's names); a node records its choice for each. */
export const interfaceSlots = [
  "bios", "boot", "console", "deploy", "firmware", "inspect", "management", "network", "power", "raid",
  "rescue", "storage", "vendor",
] as const
export type InterfaceSlot = (typeof interfaceSlots)[number]
export const InterfaceName = registeredName("InterfaceName")
export const NodeInterfaces = t.partial(
  Object.fromEntries(interfaceSlots.map((slot) => [slot, InterfaceName])) as Record<InterfaceSlot, typeof InterfaceName>,
  "NodeInterfaces",
)
export type NodeInterfaces = t.TypeOf<typeof NodeInterfaces>
export const PowerStateCodec = literals(powerStates, "PowerState")
export const ProvisionStateCodec = literals(provisionStates, "ProvisionState")

/** A secret as the log holds it: sealed by the Secrets port, never the plain value. */
export const Sealed = t.type({ $sealed: t.string }, "Sealed")
export type Sealed = t.TypeOf<typeof Sealed>

/** driver_info values: plain settings, or sealed secrets (passwords, keys). */
export const DriverInfo = t.record(t.string, t.union([t.string, t.number, t.boolean, t.null, Sealed]), "DriverInfo")
export type DriverInfo = t.TypeOf<typeof DriverInfo>

const Step = t.type({ step: t.string })
const Result = t.type({ step: t.string, durationMs: t.number })
const Failure = t.type({ step: t.string, durationMs: t.number, error: t.string })
const Reason = t.type({ error: t.string })
/** A node property an inspection set: its value before (null: unset) and after. */
const PropertyChange = t.type({ property: t.string, before: t.unknown, after: t.unknown })
const Empty = t.type({})

export const BootDevice = literals(["pxe", "disk", "cdrom"], "BootDevice")
export const BootLabel = literals(["deploy", "boot", "rescue"], "BootLabel")
export const imageKinds = ["partition", "whole-disk"] as const
export const ImageKind = literals(imageKinds, "ImageKind")

export const IscsiTarget = t.intersection([
  t.type({ address: t.string, port: PortNumber, iqn: Iqn, lun: NonNegativeInt }),
  t.partial({ chapUser: t.string, chapSecret: Sealed }),
], "IscsiTarget")
export type IscsiTarget = t.TypeOf<typeof IscsiTarget>

/** A config drive kept outside the log: the sha256 of the filesystem image and its size. */
export const ConfigDriveRef = t.type({ sha256: t.string, bytes: NonNegativeInt }, "ConfigDriveRef")
export type ConfigDriveRef = t.TypeOf<typeof ConfigDriveRef>

const DeploySpecFields = t.type({
  deployId: Uuid,
  /** Digest of the per-deploy key, compared in constant time when the ramdisk calls back. */
  keyHash: t.string,
  /** The key sealed by the Secrets port: any conductor can write it into the PXE config again. */
  sealedKey: Sealed,
  imageSource: t.string,
  imageKind: ImageKind,
  rootGb: NonNegativeInt,
  swapMb: NonNegativeInt,
  ephemeralGb: NonNegativeInt,
  preserveEphemeral: t.boolean,
})
export const DeploySpec = t.intersection([DeploySpecFields, t.partial({
  configDrive: ConfigDriveRef,
  /** Out-of-band steps run before the ramdisk boots: the matching deploy templates' and the user's (deploy-steps.ts). */
  deploySteps: t.array(DeployStep),
})], "DeploySpec")
export type DeploySpec = t.TypeOf<typeof DeploySpec>

/** A cleaning step as a user asks for it (Ironic's clean_steps items): "<interface>.<step>" and its arguments. */
export const CleanStep = t.intersection([
  t.type({ interface: t.string, step: t.string }),
  t.partial({ args: t.UnknownRecord }),
], "CleanStep")
export type CleanStep = t.TypeOf<typeof CleanStep>
export const StepWhere = literals(["in-band", "out-of-band"], "StepWhere")
/** Provision verbs a user may ask for behind a running action (abort is never queued: it acts at once). */
export const queuedVerbs = ["manage", "provide", "clean", "inspect", "adopt", "undeploy", "rescue", "unrescue"] as const

/** A power or provision request waiting in a node's queue (ADR 0050), as it will be carried out. */
export const QueuedAction = t.union([
  t.type({ kind: t.literal("power"), request: literals(["PowerOnRequested", "PowerOffRequested", "RebootRequested", "SoftPowerOffRequested"], "PowerRequest") }),
  t.intersection([t.type({ kind: t.literal("provision"), verb: literals(queuedVerbs, "QueuedVerb") }), t.partial({ cleanSteps: t.array(CleanStep), rescuePasswordHash: t.string })]),
  t.type({ kind: t.literal("deploy"), spec: DeploySpec, rebuild: t.boolean }),
], "QueuedAction")
export type QueuedAction = t.TypeOf<typeof QueuedAction>

/** The data codec of each event type. Adding an event means adding it here (and to evolve). */
/** The fields of a node record that enrollment sets and updates change. */
const nodeFields = {
  name: Nullable(NodeName),
  driver: Driver,
  driverInfo: DriverInfo,
  properties: Json,
  instanceInfo: Json,
  extra: Json,
}

/** Fields added after the first stored version: absent in older events. */
const laterNodeFields = {
  /** The interface chosen for each slot; a slot left out takes the hardware type's default. */
  interfaces: NodeInterfaces,
  /** Whether provide and tear-down clean the node; null: the service's default. */
  automatedClean: Nullable(t.boolean),
  ...recordFields,
}

/**
 * The inspection rules that matched an inspection's inventory (ADR 0142): what each did, and the
 * node's fields as they left them (only those they changed). `setProperties` are the properties
 * rules set, kept over what the inspection itself finds; `failed`: a rule failed the inspection.
 */
const InspectionRulesApplied = t.intersection([
  t.type({ rules: t.array(t.type({ uuid: t.string, description: Nullable(t.string), did: t.array(t.string) })) }),
  t.partial({
    setProperties: Json, removedProperties: t.array(t.string), driverInfo: DriverInfo, extra: Json,
    traits: t.array(t.string), pluginData: Json, failed: t.string,
  }),
])

export const eventData = {
  Enrolled: t.intersection([t.type({ nodeId: Uuid, ...nodeFields }), t.partial(laterNodeFields)]),
  NodeUpdated: t.partial({ ...nodeFields, ...laterNodeFields }),
  NodeDeleted: Empty,
  PortAdded: t.type({ portId: Uuid, mac: Mac }),
  PortRemoved: t.type({ portId: Uuid, mac: Mac }),
  MaintenanceSet: t.type({ reason: Nullable(t.string) }),
  MaintenanceCleared: Empty,

  // Provision verbs asked for by a user or by the conductor.
  ManageRequested: Empty,
  ProvideRequested: Empty,
  /** `steps`: a manual clean's steps, as asked for (absent: an automated clean runs the configured ones). */
  CleanRequested: t.intersection([t.type({ automated: t.boolean }), t.partial({ steps: t.array(CleanStep) })]),
  InspectRequested: Empty,
  AdoptRequested: Empty,
  DeployRequested: t.intersection([DeploySpec, t.type({ rebuild: t.boolean })]),
  UndeployRequested: Empty,
  /** `passwordHash`: the rescue password as crypt SHA-512 (ADR 0095); absent in older events. */
  RescueRequested: t.partial({ passwordHash: t.string }),
  UnrescueRequested: Empty,
  AbortRequested: Empty,

  // The ramdisk call-back.
  CallbackAwaited: t.type({ deadline: t.string }),
  IscsiReady: t.type({ deployId: Uuid, target: IscsiTarget }),
  CallbackReceived: Json,
  /** A key for the ramdisk a cleaning boots (deploys carry theirs in DeployRequested). */
  RamdiskKeyIssued: t.type({ keyHash: t.string, sealedKey: Sealed }),
  /** The cleaning ramdisk exported the disk: metadata can be wiped over iSCSI. */
  RamdiskReady: t.type({ target: IscsiTarget }),
  /**
   * Version 2 (ADR 0033): refused call-backs of one window, counted: the first of a window is
   * recorded alone (count 1), the rest as one event at the window's end. Version 1 had `reason` only.
   */
  CallbackRejected: t.type({ reason: t.string, count: t.number, sources: t.array(t.string) }),
  WaitTimedOut: t.type({ deadline: t.string }),
  /** The inspection ramdisk's inventory, as it posted it (ADR 0058). */
  /** `rootDisk`: the disk the ramdisk would install to, by its root device rule and hints. */
  InventoryReceived: t.intersection([t.type({ inventory: Json }), t.partial({ rootDisk: t.string })]),
  /** The rescue ramdisk set the password and opened a login on the console (ADR 0095). */
  RescueRamdiskReady: t.partial({ address: t.string }),

  // Outcomes of the running operation: `done` and `fail` in the table.
  Verified: Empty,
  VerificationFailed: Reason,
  CleaningDone: Empty,
  /** A manual clean (asked for in manageable) returns the node to manageable. */
  ManualCleaningDone: Empty,
  CleaningFailed: Reason,
  /** `changes`: each property inspection changed, before and after (ADR 0058); absent in older events. */
  Inspected: t.intersection([t.type({ properties: Json }), t.partial({ changes: t.array(PropertyChange) })]),
  InspectionFailed: Reason,
  Adopted: Empty,
  AdoptionFailed: Reason,
  DeployDone: t.type({ deployId: Uuid }),
  DeployFailed: Reason,
  TearDownDone: Empty,
  TearDownFailed: Reason,
  Rescued: Empty,
  RescueFailed: Reason,
  Unrescued: Empty,
  UnrescueFailed: Reason,

  // Which conductor drives the node, until when (several conductors may share one store).
  LeaseAcquired: t.type({ holder: t.string, expiresAt: t.string }),
  LeaseReleased: t.type({ holder: t.string }),

  // Hardware actions: requested -> result.
  PowerOnRequested: Step,
  PowerOffRequested: Step,
  RebootRequested: Step,
  SoftPowerOffRequested: Step,
  PowerStateChanged: t.intersection([Result, t.type({ powerState: PowerStateCodec })]),
  PowerActionFailed: Failure,
  PowerStateObserved: t.type({ powerState: Nullable(PowerStateCodec) }),
  BootDeviceRequested: t.intersection([Step, t.type({ device: BootDevice, persistent: t.boolean })]),
  BootDeviceSet: t.intersection([Result, t.type({ warning: Nullable(t.string) })]),
  BootDeviceFailed: Failure,
  BootConfigRequested: t.intersection([Step, t.type({ label: Nullable(BootLabel) })]),
  BootConfigWritten: Result,
  BootConfigFailed: Failure,
  ImageWriteRequested: t.intersection([Step, t.type({ deployId: Uuid })]),
  ImageWritten: t.intersection([Result, t.type({
    deployId: Uuid,
    bytesWritten: NonNegativeInt,
    rootUuid: Nullable(t.string),
    diskId: Nullable(t.string),
  })]),
  ImageWriteFailed: Failure,
  DiskWipeRequested: Step,
  DiskWiped: Result,
  DiskWipeFailed: Failure,
  RamdiskReleaseRequested: Step,
  RamdiskReleased: Result,
  RamdiskReleaseFailed: Failure,

  // The node's action queue (ADR 0050): a request that arrived while another action ran, its start
  // (recorded with the action's own first event), or why it was dropped.
  ActionQueued: t.type({ actionId: t.string, action: QueuedAction }),
  QueuedActionStarted: t.type({ actionId: t.string }),
  QueuedActionDropped: t.type({ actionId: t.string, reason: t.string }),
  // What the BMC reported, read after verify and after a BIOS or firmware step (Ironic's cached
  // BIOS settings and firmware components): GET /v1/nodes/{id}/bios and /firmware serve the latest.
  BiosSettingsCached: t.type({ settings: t.array(t.intersection([t.type({ name: t.string, value: Nullable(t.string) }), t.partial({ registry: BiosRegistryEntry })])) }),
  FirmwareComponentsCached: t.type({ components: t.array(t.type({ component: t.string, version: t.string })) }),
  // The serial console (ADR 0064): switched on and off by a user; each client connection recorded.
  ConsoleEnabled: Empty,
  ConsoleDisabled: Empty,
  /** `via`: "tcp" (the console_info URL, the one writer) or "websocket" (the web view, read-only). */
  ConsoleConnectionOpened: t.type({ connection: t.string, via: t.string, peer: t.string, writer: t.boolean }),
  ConsoleConnectionClosed: t.type({ connection: t.string, via: t.string, peer: t.string, durationMs: t.number }),
  /** One cleaning step: out-of-band ones the conductor runs through the interface, in-band ones the ramdisk. */
  CleanStepRequested: t.intersection([Step, t.type({ name: t.string, args: Json, where: StepWhere })]),
  CleanStepDone: t.intersection([Result, t.type({ summary: t.string }), t.partial({ details: Json })]),
  CleanStepFailed: Failure,
  /**
   * The node was created from a discovery post of an unknown machine (ADR 0090): Ironic's
   * `auto_discovered`. `bmcAddress`: the address the ramdisk read in-band (null: none);
   * `autoEnroll`: the service's default driver_info was given and manage requested at once.
   */
  Discovered: t.type({ bmcAddress: Nullable(t.string), source: Nullable(t.string), autoEnroll: t.boolean }),
  // A port's settings and the VIF plugged into it (port-record.ts).
  ...portEventData,
  // Allocations bound to the node (allocation.ts).
  ...allocationEventData,
  // Faults and network events (node-extras.ts).
  ...nodeExtrasEventData,
  // Port groups, volume connectors and targets, NMIs (portgroup-record.ts, volume-record.ts, nmi-record.ts).
  ...portgroupEventData,
  ...volumeEventData,
  ...nmiEventData,
  InspectionRulesApplied,
} as const

export type EventType = keyof typeof eventData
export const eventTypes = Object.keys(eventData) as ReadonlyArray<EventType>
export type EventDataOf<K extends EventType> = t.TypeOf<(typeof eventData)[K]>

/** A node event as the domain sees it: a type and its data. */
export type NodeEvent = { [K in EventType]: { readonly type: K; readonly data: EventDataOf<K> } }[EventType]

export const isEventType = (s: string): s is EventType => Object.hasOwn(eventData, s)

/** Who caused an event and in which operation: stored beside it, read by history and audit. */
export interface EventMeta {
  readonly occurredAt: string
  readonly actor: string
  readonly correlationId: string
  readonly causationId: string | null
  /** The instance the node carried when the event was recorded (ADR 0047); absent in older logs. */
  readonly instanceUuid?: string
}

export const EventMetaCodec = t.intersection([t.type({
  occurredAt: t.string,
  actor: t.string,
  correlationId: t.string,
  causationId: Nullable(t.string),
}), t.partial({ instanceUuid: t.string })], "EventMeta")

/** An event as it sits in a node's stream. */
export interface RecordedNodeEvent {
  readonly event: NodeEvent
  readonly meta: EventMeta
  readonly revision: number
}

/**
 * The one catalogue of hardware steps: each request, the result that says it was done, the one
 * that says it failed, the device it acts on and the interface slot that carries it out. The
 * tables below, decide's check of results, the conductor's failure mapping and the tests' tables
 * are all read from here; a request without an entry does not compile.
 */
export const hardwareSteps = {
  PowerOnRequested: { label: "power on", done: "PowerStateChanged", failed: "PowerActionFailed", device: "power", slot: "power" },
  PowerOffRequested: { label: "power off", done: "PowerStateChanged", failed: "PowerActionFailed", device: "power", slot: "power" },
  RebootRequested: { label: "reboot", done: "PowerStateChanged", failed: "PowerActionFailed", device: "power", slot: "power" },
  SoftPowerOffRequested: { label: "soft power off", done: "PowerStateChanged", failed: "PowerActionFailed", device: "power", slot: "power" },
  BootDeviceRequested: { label: "set boot device", done: "BootDeviceSet", failed: "BootDeviceFailed", device: "boot device", slot: "management" },
  BootConfigRequested: { label: "write boot config", done: "BootConfigWritten", failed: "BootConfigFailed", device: "pxe", slot: "boot" },
  ImageWriteRequested: { label: "write image", done: "ImageWritten", failed: "ImageWriteFailed", device: "image", slot: "deploy" },
  DiskWipeRequested: { label: "wipe disk", done: "DiskWiped", failed: "DiskWipeFailed", device: "wipe", slot: "deploy" },
  RamdiskReleaseRequested: { label: "release ramdisk", done: "RamdiskReleased", failed: "RamdiskReleaseFailed", device: "ramdisk", slot: "deploy" },
  CleanStepRequested: { label: "clean step", done: "CleanStepDone", failed: "CleanStepFailed", device: "clean step", slot: "deploy" },
} as const satisfies Partial<Record<EventType, {
  readonly label: string; readonly done: EventType; readonly failed: EventType; readonly device: string; readonly slot: InterfaceSlot
}>>
export type HardwareRequest = keyof typeof hardwareSteps
export type HardwareResult = (typeof hardwareSteps)[HardwareRequest]["done" | "failed"]

/** Each request's label: "power on", "write image", ... */
export const hardwareRequests = Object.fromEntries(
  Object.entries(hardwareSteps).map(([request, s]) => [request, s.label]),
) as { readonly [K in HardwareRequest]: (typeof hardwareSteps)[K]["label"] }

/** Each result, and whether it says the step was done (true) or failed (false). */
export const hardwareResults = Object.fromEntries(
  Object.values(hardwareSteps).flatMap((s) => [[s.done, true], [s.failed, false]]),
) as { readonly [K in HardwareResult]: boolean }

/** The device a request or a result is about: a result answers a request of the same device. */
export const hardwareDeviceOf = Object.fromEntries(
  Object.entries(hardwareSteps).flatMap(([request, s]) => [[request, s.device], [s.done, s.device], [s.failed, s.device]]),
) as Readonly<Record<HardwareRequest | HardwareResult, string>>
