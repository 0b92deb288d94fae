// The application's face to the outside (HTTP API, CLI): every use case on nodes and ports.
// Inputs are already decoded value objects; outputs are projection views.
import type { ConfigDriveInput } from "./config-drive.ts"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type { DomainError, Driver, InterfaceSlot, Mac, NodeInterfaces, NodeName, PowerState, ProvisionState, RecordFields, Uuid } from "../domain/index.ts"
import type { CleanStep } from "../domain/index.ts"
import type { SlotCheck } from "./hardware/registry.ts"
import type { StoreUnavailable } from "../ports/index.ts"
import type { FleetAt } from "./fleet-at.ts"
import type { HistoryFilter } from "./history-filter.ts"
import type { SerialLine } from "./hardware/console.ts"
import type { ConsoleConnection } from "./node-service/console.ts"
import type { DeployTemplate, TemplateChanges } from "./deploy-templates.ts"
import type { Indicator, IndicatorComponent, IndicatorState } from "./hardware/indicators.ts"
import type { DeployStep } from "../domain/index.ts"

/** A node as the API shows it (Ironic's field names are mapped in the HTTP adapter). */
export interface NodeView extends Omit<RecordFields, "instanceUuid"> {
  readonly uuid: string
  readonly name: string | null
  readonly driver: Driver
  /** The interface of each slot: the node's choice, else its hardware type's default. */
  readonly interfaces: NodeInterfaces
  /** Whether provide and tear-down clean the node; null: the service's default. */
  readonly automatedClean: boolean | null
  /** Secrets are already masked here: a sealed value reads "******". */
  readonly driverInfo: Record<string, unknown>
  readonly properties: Record<string, unknown>
  readonly instanceInfo: Record<string, unknown>
  readonly extra: Record<string, unknown>
  readonly provisionState: ProvisionState
  readonly targetProvisionState: ProvisionState | null
  readonly powerState: PowerState | null
  readonly targetPowerState: PowerState | null
  readonly maintenance: boolean
  readonly maintenanceReason: string | null
  readonly lastError: string | null
  readonly consoleEnabled: boolean
  readonly instanceUuid: string | null
  readonly ports: ReadonlyArray<{ readonly uuid: string; readonly address: string }>
  /** The running deploy's progress, while an image is being written. */
  readonly deployProgress: { readonly bytesWritten: number; readonly totalBytes: number } | null
  readonly createdAt: string
  readonly updatedAt: string
  readonly provisionUpdatedAt: string
  /** Stream revision the view reflects; lets clients and tests wait for a projection to catch up. */
  readonly revision: number
  /** Ironic's driver_internal_info: here, a discovered node's marks (ADR 0090). */
  readonly driverInternalInfo?: Record<string, unknown>
  /** Ironic's fault ("power failure", "clean failure"): why the conductor set maintenance. */
  readonly fault: string | null
}

export interface PortView {
  readonly uuid: string
  readonly address: string
  readonly nodeUuid: string
  readonly createdAt: string
  readonly updatedAt: string | null
  readonly extra: Record<string, unknown>
  readonly pxeEnabled: boolean
  readonly localLinkConnection: Record<string, unknown>
  readonly physicalNetwork: string | null
  /** The tenant VIF plugged into the port (Ironic's internal_info.tenant_vif_port_id). */
  readonly vifId: string | null
  /** The port group it belongs to (API 1.24) and whether it is a Smart NIC port (1.53). */
  readonly portgroupId: string | null
  readonly isSmartnic: boolean
}

/** A port's settings a PATCH may change. */
export interface PortChanges {
  readonly address?: Mac
  readonly extra?: Record<string, unknown>
  readonly pxeEnabled?: boolean
  readonly localLinkConnection?: Record<string, unknown>
  readonly physicalNetwork?: string | null
  readonly portgroupId?: Uuid | null
  readonly isSmartnic?: boolean
}

/** One entry of a node's history: what happened, when, who did it, in which operation, how long it took. */
export interface HistoryEntry {
  readonly revision: number
  readonly position: number
  readonly event: string
  readonly occurredAt: string
  readonly actor: string
  readonly correlationId: string
  readonly causationId: string | null
  /** A readable one-line account, secrets masked. */
  readonly summary: string
  readonly severity: "info" | "error"
  readonly provisionState: ProvisionState
  /** The instance the event was caused for (its operation's), if any. */
  readonly instanceUuid: string | null
  /** For a result event, the time since its request; for others, the time since the previous event. */
  readonly durationMs: number | null
  readonly data: Record<string, unknown>
}

export interface NodeFilter {
  readonly provisionState?: ProvisionState
  readonly maintenance?: boolean
  readonly driver?: Driver
  readonly associated?: boolean
  readonly instanceUuid?: string
  readonly resourceClass?: string
  readonly conductorGroup?: string
  readonly owner?: string
  readonly lessee?: string
  /** Ironic's fault filter: nodes whose conductor-recorded fault is this one. */
  readonly fault?: string
  readonly retired?: boolean
  readonly descriptionContains?: string
  /** ironledger has no chassis: a chassis filter matches no node. */
  readonly chassisUuid?: string
  /** The conductor a node shows ("ironledger"). */
  readonly conductor?: string
}

export interface Page {
  readonly limit: number
  /** Uuid of the last item of the previous page. */
  readonly marker?: string
}

export interface EnrollInput {
  readonly uuid?: Uuid
  readonly name: NodeName | null
  readonly driver: Driver
  /** Interfaces asked for; slots left out take the hardware type's defaults. */
  readonly interfaces?: NodeInterfaces
  readonly automatedClean?: boolean | null
  /** description, owner, lessee, resource_class, conductor_group, network_data as given at enrollment. */
  readonly record?: Partial<RecordFields>
  /** Plain values from the caller; the service seals the secret ones (passwords) before logging. */
  readonly driverInfo: Record<string, string | number | boolean | null>
  readonly properties: Record<string, unknown>
  readonly instanceInfo: Record<string, unknown>
  readonly extra: Record<string, unknown>
}

export interface NodeChanges extends Partial<RecordFields> {
  readonly name?: NodeName | null
  readonly driver?: Driver
  /** Slots to change; a slot set to null goes back to the hardware type's default. */
  readonly interfaces?: Partial<Record<InterfaceSlot, string | null>>
  /** With a new driver: slots not asked for take the new hardware type's defaults (API 1.45), else they are kept. */
  readonly resetInterfaces?: boolean
  readonly automatedClean?: boolean | null
  readonly driverInfo?: Record<string, string | number | boolean | null>
  readonly properties?: Record<string, unknown>
  readonly instanceInfo?: Record<string, unknown>
  readonly extra?: Record<string, unknown>
}

/** Ironic's provision targets as sent in PUT .../states/provision. */
export type ProvisionTarget =
  | "manage" | "provide" | "active" | "deleted" | "rebuild" | "abort" | "inspect" | "clean"
  | "rescue" | "unrescue" | "adopt"

export interface ProvisionOptions {
  /** rebuild only: keep the ephemeral partition. */
  readonly preserveEphemeral?: boolean
  /** active and rebuild: Ironic's configdrive, a base64 gzipped image or the JSON form (ADR 0053). */
  readonly configDrive?: ConfigDriveInput
  /** clean only: the steps to run, checked against those the node's interfaces offer. */
  readonly cleanSteps?: ReadonlyArray<CleanStep>
  /** active and rebuild (API 1.69): deploy steps beside those of the matching deploy templates. */
  readonly deploySteps?: ReadonlyArray<DeployStep>
  /** clean only (API 1.70): the cleaning must not boot the ramdisk, so every step must be out-of-band. */
  readonly disableRamdisk?: boolean
  /** rescue only: the password the rescue ramdisk's login takes; kept only as its hash (ADR 0095). */
  readonly rescuePassword?: string
}

/** What the ramdisk agent is told when it asks for work: a step to run, "wait", or nothing more. */
export type AgentStepAnswer =
  | { readonly kind: "step"; readonly step: string; readonly name: string; readonly args: Readonly<Record<string, unknown>> }
  | { readonly kind: "wait" }

/** An in-band step's outcome, as the ramdisk reports it. */
export interface AgentStepResult {
  readonly step: string
  readonly error: string | null
  readonly summary: string
  readonly details?: Readonly<Record<string, unknown>>
}

export type PowerTarget = "power on" | "power off" | "rebooting" | "soft power off"

/** pass_deploy_info from the deploy ramdisk, already shape-checked. */
export interface DeployCallback {
  readonly address: string
  readonly port: number
  readonly iqn: string
  readonly lun: number
  readonly key: string
  readonly error: string | null
  readonly chapUser?: string
  readonly chapSecret?: string
  /** Where the call-back came from (the peer's address), for the record of refusals. */
  readonly source?: string
}

/** A hardware type as GET /v1/drivers shows it. */
export interface DriverView {
  readonly name: Driver
  readonly description: string
  /** Per slot: the enabled interfaces it supports, and the default (the first). */
  readonly interfaces: { readonly [S in InterfaceSlot]: { readonly enabled: ReadonlyArray<string>; readonly default: string | null } }
  readonly properties: ReadonlyArray<{ readonly name: string; readonly description: string; readonly required: boolean; readonly secret: boolean; readonly slot: InterfaceSlot }>
}

export class DriverNotFound extends Data.TaggedError("DriverNotFound")<{ readonly name: string }> {
  override get message() { return `Could not find the following driver(s) or hardware type(s): ${this.name}.` }
}

export class NodeNotFound extends Data.TaggedError("NodeNotFound")<{ readonly ref: string }> {
  override get message() { return `Node ${this.ref} could not be found.` }
}
export class PortNotFound extends Data.TaggedError("PortNotFound")<{ readonly ref: string }> {
  override get message() { return `Port ${this.ref} could not be found.` }
}
/** Name or MAC already taken, or a concurrent writer won too often. */
export class Conflict extends Data.TaggedError("Conflict")<{ readonly reason: string }> {
  override get message() { return this.reason }
}
export class InvalidInput extends Data.TaggedError("InvalidInput")<{ readonly reason: string }> {
  override get message() { return this.reason }
}
/** The domain refused the command; carries the node, action and state. */
export class Refused extends Data.TaggedError("Refused")<{ readonly error: DomainError }> {
  override get message() { return this.error.message }
}
export class AllocationNotFound extends Data.TaggedError("AllocationNotFound")<{ readonly ref: string }> {
  override get message() { return `Allocation ${this.ref} could not be found.` }
}

export class DeployTemplateNotFound extends Data.TaggedError("DeployTemplateNotFound")<{ readonly ref: string }> {
  override get message() { return `Deploy template ${this.ref} could not be found.` }
}

/** An allocation as the API shows it (Ironic's fields, plus the flavor properties asked for). */
export interface AllocationView {
  readonly uuid: string
  readonly name: string | null
  readonly nodeUuid: string | null
  readonly state: "allocating" | "active" | "error"
  readonly lastError: string | null
  readonly resourceClass: string | null
  readonly traits: ReadonlyArray<string>
  readonly candidateNodes: ReadonlyArray<string>
  readonly extra: Record<string, unknown>
  readonly owner: string | null
  readonly properties: Record<string, unknown>
  readonly createdAt: string
  readonly updatedAt: string | null
}

export interface AllocationInput {
  readonly uuid?: Uuid
  readonly name: string | null
  readonly resourceClass: string | null
  readonly traits: ReadonlyArray<string>
  /** Node names or UUIDs. */
  readonly candidateNodes: ReadonlyArray<string>
  readonly extra: Record<string, unknown>
  readonly owner: string | null
  readonly properties: Record<string, unknown>
  /** Backfill: the deployed node the allocation is for (API 1.58). */
  readonly node?: string
}

/** One event of POST /v1/events (Ironic's network port events), already validated. */
export interface NetworkEventInput {
  readonly event: string
  readonly portId: string
  readonly macAddress: string
  readonly status: string
  readonly deviceId: string | null
  readonly hostId: string | null
  readonly vnicType: string | null
}

export interface AllocationFilter {
  readonly node?: string
  readonly resourceClass?: string
  readonly state?: string
  readonly owner?: string
}

export type AppError = DeployTemplateNotFound | AllocationNotFound | DriverNotFound | NodeNotFound | PortNotFound | Conflict | InvalidInput | Refused | StoreUnavailable
  | import("./node-parts.ts").ResourceNotFound

export class NodeService extends Context.Service<NodeService, {
  readonly enroll: (input: EnrollInput, actor: string) => Effect.Effect<NodeView, AppError>
  /**
   * By UUID or by name. Answered at the call (an Exit) when the projection is known to hold the log,
   * so that the API's reads need no fiber (ADR 0192): run it where it is made.
   */
  readonly get: (ref: string) => Effect.Effect<NodeView, AppError>
  /** A page from the projection, answered at the call (ADR 0192). */
  readonly list: (filter: NodeFilter, page: Page) => Exit.Exit<ReadonlyArray<NodeView>, AppError>
  readonly update: (ref: string, changes: NodeChanges, actor: string) => Effect.Effect<NodeView, AppError>
  readonly remove: (ref: string, actor: string) => Effect.Effect<void, AppError>
  readonly setMaintenance: (ref: string, on: boolean, reason: string | null, actor: string) => Effect.Effect<void, AppError>
  readonly provision: (
    ref: string,
    target: ProvisionTarget,
    options: ProvisionOptions,
    actor: string,
  ) => Effect.Effect<void, AppError>
  readonly power: (ref: string, target: PowerTarget, actor: string) => Effect.Effect<void, AppError>
  readonly passDeployInfo: (ref: string, callback: DeployCallback) => Effect.Effect<void, AppError>
  readonly history: (ref: string, page: { readonly limit: number; readonly afterRevision?: number; readonly filter?: HistoryFilter }) =>
    Effect.Effect<ReadonlyArray<HistoryEntry>, AppError>
  /** Every node as it was at `at` (ISO 8601), with counts by provision state. */
  readonly fleetAt: (at: string) => Effect.Effect<FleetAt, AppError>
  /** The node as it was at `at` (ISO 8601), folded from its events up to then. */
  readonly stateAt: (ref: string, at: string) => Effect.Effect<NodeView, AppError>

  readonly addPort: (input: { readonly nodeRef: string; readonly mac: Mac; readonly settings?: Omit<PortChanges, "address"> }, actor: string) => Effect.Effect<PortView, AppError>
  readonly getPort: (uuid: string) => Effect.Effect<PortView, AppError>
  readonly listPorts: (filter: { readonly nodeRef?: string; readonly address?: Mac }, page: Page) =>
    Effect.Effect<ReadonlyArray<PortView>, AppError>
  readonly removePort: (uuid: string, actor: string) => Effect.Effect<void, AppError>
  readonly updatePort: (uuid: string, changes: PortChanges, actor: string) => Effect.Effect<PortView, AppError>
  /** The VIFs plugged into a node's ports. */
  readonly vifs: (ref: string) => Effect.Effect<ReadonlyArray<string>, AppError>
  /** Plugs a VIF into a free port of the node (or the one named). */
  readonly attachVif: (ref: string, vifId: string, portUuid: string | undefined, actor: string) => Effect.Effect<void, AppError>
  readonly detachVif: (ref: string, vifId: string, actor: string) => Effect.Effect<void, AppError>
  readonly drivers: () => Effect.Effect<ReadonlyArray<DriverView>, AppError>
  readonly driver: (name: string) => Effect.Effect<DriverView, AppError>
  /** Per interface slot, whether the node has what that interface needs. */
  readonly validate: (ref: string) => Effect.Effect<Record<InterfaceSlot, SlotCheck>, AppError>

  /** The life of an instance across the nodes it lived on, oldest first, each entry with its node. */
  readonly instanceHistory: (instanceUuid: string) => Effect.Effect<ReadonlyArray<HistoryEntry & { readonly nodeUuid: string }>, AppError>
  /** Finds a matching node and binds it, or answers the allocation in state "error" saying why. */
  readonly allocate: (input: AllocationInput, actor: string) => Effect.Effect<AllocationView, AppError>
  readonly allocations: (filter: AllocationFilter, page: Page) => Effect.Effect<ReadonlyArray<AllocationView>, AppError>
  /** By UUID or name. */
  readonly allocation: (ref: string) => Effect.Effect<AllocationView, AppError>
  readonly removeAllocation: (ref: string, actor: string) => Effect.Effect<void, AppError>

  /** Adds one trait, decided against the node as the log has it (concurrent adds all land). */
  readonly addTrait: (ref: string, trait: string, max: number, actor: string) => Effect.Effect<void, AppError>
  readonly removeTrait: (ref: string, trait: string, actor: string) => Effect.Effect<void, AppError>
  /** API 1.57: an allocation's name or extra. */
  readonly updateAllocation: (ref: string, changes: { readonly name?: string | null; readonly extra?: Record<string, unknown> }, actor: string) =>
    Effect.Effect<AllocationView, AppError>
  /** API 1.54: Neutron's port events, recorded on the node whose port has the MAC; the number recorded. */
  readonly recordNetworkEvents: (events: ReadonlyArray<NetworkEventInput>, actor: string) => Effect.Effect<number, AppError>
  /** Deploy templates (API 1.55): by UUID or name. */
  readonly deployTemplates: () => Effect.Effect<ReadonlyArray<DeployTemplate>, AppError>
  readonly deployTemplate: (ref: string) => Effect.Effect<DeployTemplate, AppError>
  readonly createDeployTemplate: (input: { readonly uuid?: Uuid; readonly name: string; readonly steps: ReadonlyArray<DeployStep>; readonly extra: Record<string, unknown> }, actor: string) =>
    Effect.Effect<DeployTemplate, AppError>
  readonly updateDeployTemplate: (ref: string, changes: TemplateChanges, actor: string) => Effect.Effect<DeployTemplate, AppError>
  readonly removeDeployTemplate: (ref: string, actor: string) => Effect.Effect<void, AppError>
  /** Inspection rules (ADR 0142), by UUID. */
  readonly inspectionRules: () => Effect.Effect<ReadonlyArray<import("./inspection/rules.ts").StoredInspectionRule>, AppError>
  readonly inspectionRule: (ref: string) => Effect.Effect<import("./inspection/rules.ts").StoredInspectionRule, AppError>
  readonly createInspectionRule: (input: Omit<import("../domain/inspection-rules.ts").InspectionRule, "uuid"> & { readonly uuid?: Uuid }, actor: string) =>
    Effect.Effect<import("./inspection/rules.ts").StoredInspectionRule, AppError>
  readonly updateInspectionRule: (ref: string, changes: import("./inspection/rules.ts").RuleChanges, actor: string) =>
    Effect.Effect<import("./inspection/rules.ts").StoredInspectionRule, AppError>
  readonly removeInspectionRule: (ref: string, actor: string) => Effect.Effect<void, AppError>
  /** Indicators (API 1.63) through the node's management interface; setting one is recorded. */
  readonly indicators: (ref: string) => Effect.Effect<ReadonlyArray<Indicator>, AppError>
  readonly indicatorState: (ref: string, component: IndicatorComponent, name: string) => Effect.Effect<IndicatorState, AppError>
  readonly setIndicatorState: (ref: string, component: IndicatorComponent, name: string, state: IndicatorState, actor: string) => Effect.Effect<void, AppError>
  /** A ramdisk's heartbeat: accepted only from a node waiting for its ramdisk. */
  readonly heartbeat: (ref: string) => Effect.Effect<void, AppError>
  /** Ramdisk look-up: the node owning any of these MACs, only while it waits for a ramdisk. */
  readonly lookupByMac: (macs: ReadonlyArray<Mac>) => Effect.Effect<NodeView, AppError>

  /** Serial console (ADR 0064): console_enabled on or off; enabling needs a console interface that can open. */
  readonly setConsole: (ref: string, on: boolean, actor: string) => Effect.Effect<NodeView, AppError>
  readonly recordConsoleConnection: (ref: string, connection: ConsoleConnection, actor: string) => Effect.Effect<void, AppError>
  /** The node's serial line through its console interface; the caller closes it. */
  readonly openConsole: (ref: string) => Effect.Effect<SerialLine, AppError>
  /** The cleaning ramdisk asks for its next in-band step, with its key. */
  readonly nextCleanStep: (ref: string, key: string) => Effect.Effect<AgentStepAnswer, AppError>
  /** The cleaning ramdisk reports an in-band step's outcome, with its key. */
  readonly cleanStepResult: (ref: string, key: string, result: AgentStepResult) => Effect.Effect<void, AppError>
  /** The inspection ramdisk posts the machine's inventory, with its key (ADR 0058). */
  readonly postInventory: (ref: string, key: string, inventory: unknown, rootDisk?: string) => Effect.Effect<void, AppError>
  /** The inventory the node's last inspection stored; not found when it has none. */
  /** An unknown machine's discovery post (ADR 0090): a new node, or none when its MACs are known. */
  readonly discover: (inventory: unknown, rootDisk: string | undefined, source: string | null) =>
    Effect.Effect<import("./node-service/discovery.ts").DiscoveryOutcome, AppError>
  readonly inventory: (ref: string) => Effect.Effect<{ readonly inventory: Record<string, unknown>; readonly receivedAt: string; readonly pluginData?: Record<string, unknown> }, AppError>
  /** The rescue ramdisk, with its key, fetches the password's crypt hash (ADR 0095). */
  readonly rescuePassword: (ref: string, key: string) => Effect.Effect<{ readonly hash: string }, AppError>
  /** The rescue ramdisk, with its key, reports its login up (or the error that kept it from it). */
  readonly rescueReady: (ref: string, key: string, report: { readonly address?: string; readonly error?: string | null }) => Effect.Effect<void, AppError>
} & import("./node-parts.ts").NodePartsCalls>()("ironledger/NodeService") {}
