// What can be asked of a node. Users, the conductor and the ramdisk all speak through these.
import type { CleanStep, DeploySpec, Driver, DriverInfo, EventDataOf, HardwareRequest, IscsiTarget, NodeInterfaces, QueuedAction, Sealed } from "./events.ts"
import type { Mac, NodeName, Uuid } from "./values.ts"

export type UserVerb =
  | "manage" | "provide" | "clean" | "inspect" | "adopt" | "undeploy" | "rescue" | "unrescue" | "abort"

export type NodeCommand =
  | {
    readonly type: "Enroll"
    readonly nodeId: Uuid
    readonly name: NodeName | null
    readonly driver: Driver
    readonly driverInfo: DriverInfo
    /** Resolved by the application from the hardware type; absent in logs of older versions. */
    readonly interfaces?: NodeInterfaces
    readonly automatedClean?: boolean | null
    readonly record?: Partial<import("./node-record.ts").RecordFields>
    readonly properties: Record<string, unknown>
    readonly instanceInfo: Record<string, unknown>
    readonly extra: Record<string, unknown>
  }
  | { readonly type: "Update"; readonly changes: EventDataOf<"NodeUpdated"> }
  | { readonly type: "Delete" }
  | { readonly type: "AddPort"; readonly portId: Uuid; readonly mac: Mac; readonly settings?: import("./port-record.ts").PortSettings }
  | { readonly type: "RemovePort"; readonly portId: Uuid }
  | import("./port-record.ts").PortCommand
  | import("./allocation.ts").AllocationCommand
  | import("./node-extras.ts").NodeExtrasCommand
  | import("./portgroup-record.ts").PortgroupCommand
  | import("./volume-record.ts").VolumeCommand
  | import("./nmi-record.ts").NmiCommand
  | { readonly type: "SetMaintenance"; readonly on: boolean; readonly reason: string | null }
  | { readonly type: "SetConsole"; readonly on: boolean }
  | { readonly type: "OpenConsoleConnection"; readonly data: EventDataOf<"ConsoleConnectionOpened"> }
  | { readonly type: "CloseConsoleConnection"; readonly data: EventDataOf<"ConsoleConnectionClosed"> }
  | { readonly type: "Provision"; readonly verb: UserVerb; readonly cleanSteps?: ReadonlyArray<CleanStep>; readonly rescuePasswordHash?: string }
  | { readonly type: "Deploy"; readonly spec: DeploySpec; readonly rebuild: boolean }
  // The running operation's progress, reported by the conductor.
  | { readonly type: "AwaitCallback"; readonly deadline: string }
  | { readonly type: "AcceptIscsi"; readonly deployId: Uuid; readonly target: IscsiTarget }
  | { readonly type: "AcceptCallback"; readonly data: Record<string, unknown> }
  | { readonly type: "RejectCallback"; readonly reason: string; readonly count: number; readonly sources: ReadonlyArray<string> }
  | { readonly type: "IssueRamdiskKey"; readonly keyHash: string; readonly sealedKey: Sealed }
  | { readonly type: "AcceptCleaningIscsi"; readonly target: IscsiTarget }
  /** The inspection ramdisk's inventory, with an id for each MAC the node has no port for yet. */
  | {
    readonly type: "AcceptInventory"; readonly inventory: Record<string, unknown>; readonly rootDisk?: string; readonly newPorts: ReadonlyArray<{ readonly portId: Uuid; readonly mac: Mac }>
    /** What the inspection rules did with it (ADR 0142); absent: none matched. */
    readonly rules?: import("./events.ts").EventDataOf<"InspectionRulesApplied">
  }
  | { readonly type: "TimeOutWait"; readonly now: string }
  /** The rescue ramdisk reports that its login is up (ADR 0095). */
  | { readonly type: "AcceptRescueReady"; readonly address?: string }
  /** `imageless`: the node's deploy interface writes no image (Ironic's fake deploy), so a deploy completes without one. */
  | { readonly type: "Complete"; readonly properties?: Record<string, unknown>; readonly imageless?: true }
  | { readonly type: "Fail"; readonly error: string }
  // Hardware: ask, then record what came of it.
  | { readonly type: "RequestHardware"; readonly request: HardwareRequestBody }
  | { readonly type: "RecordHardware"; readonly result: HardwareResultBody }
  | { readonly type: "ObservePower"; readonly powerState: EventDataOf<"PowerStateObserved">["powerState"] }
  | { readonly type: "CacheBiosSettings"; readonly settings: EventDataOf<"BiosSettingsCached">["settings"] }
  | { readonly type: "CacheFirmwareComponents"; readonly components: EventDataOf<"FirmwareComponentsCached">["components"] }
  // Conductor leases: take or renew (refused while another holder's lease runs), give back.
  | { readonly type: "AcquireLease"; readonly holder: string; readonly now: string; readonly expiresAt: string }
  | { readonly type: "ReleaseLease"; readonly holder: string }
  /** A command a conductor issues: accepted only while `holder` holds the node's lease at `now`. */
  | { readonly type: "AsConductor"; readonly holder: string; readonly now: string; readonly command: ConductorCommand }
  /** A user's power or provision request: carried out now, or queued behind the action running (ADR 0050). */
  | { readonly type: "Request"; readonly actionId: string; readonly action: QueuedAction }
  /** The conductor starts the node's first queued action once nothing else runs on it. */
  | { readonly type: "StartQueued" }
  /** An unknown machine's discovery post makes a new node (ADR 0090): decided on an empty stream only. */
  | import("./discovery.ts").DiscoverCommand

/** What a conductor records while driving a node. */
export type ConductorCommand = Extract<NodeCommand, {
  readonly type: "AwaitCallback" | "TimeOutWait" | "Complete" | "Fail" | "RequestHardware" | "RecordHardware" | "ObservePower"
    | "IssueRamdiskKey" | "StartQueued" | "CacheBiosSettings" | "CacheFirmwareComponents"
}>

export type HardwareRequestBody = { [K in HardwareRequest]: { readonly type: K; readonly data: EventDataOf<K> } }[HardwareRequest]
export type HardwareResultBody = {
  [K in import("./events.ts").HardwareResult]: { readonly type: K; readonly data: EventDataOf<K> }
}[import("./events.ts").HardwareResult]
