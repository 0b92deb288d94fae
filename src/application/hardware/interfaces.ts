// The interfaces a hardware type is made of (as in Ironic): each fills one slot (power, boot,
// deploy, ...), declares the driver_info it reads and which of it is secret, checks values at
// enroll and a node's readiness at validate, and does its slot's work for one node at a time.
import type * as Effect from "effect/Effect"
import type { InterfaceSlot, NodeState } from "../../domain/index.ts"
import type {
  BlockWriter, BootConfigurator, BootDevice, ChassisPower, DeployRamdisk, ImageStore, Secrets,
} from "../../ports/index.ts"
import type { StepSpec } from "./steps.ts"
import type { ConfigDriveMedia } from "../../ports/config-drives.ts"

export interface PropertySpec {
  readonly name: string
  readonly description: string
  /** validate reports a node without it; enroll accepts it missing (as Ironic does). */
  readonly required?: true
  /** Sealed before it is logged, masked when shown. */
  readonly secret?: true
}

/** A hardware action that did not happen, in words an operator can act on. */
export interface HardwareFailure { readonly message: string }

export type Act<A> = Effect.Effect<A, HardwareFailure, Secrets>

export interface InterfaceBase<S extends InterfaceSlot> {
  readonly slot: S
  /** Unique within its slot: "ipmitool", "pxe", "fake", ... */
  readonly name: string
  readonly description: string
  readonly properties: ReadonlyArray<PropertySpec>
  /** Why values present in driver_info cannot work (refused at enroll and update), or null. */
  readonly checkInfo?: (info: Readonly<Record<string, unknown>>) => string | null
  /** Why this interface cannot act on the node now (missing settings, no port ...), or null. */
  readonly validate?: (node: NodeState) => string | null
  /** A "no-*" interface: the slot is left unfilled, and what it would carry out is refused. */
  readonly unsupported?: true
  /** Cleaning steps it offers ("<slot>.<name>"); see steps.ts. */
  readonly steps?: ReadonlyArray<StepSpec>
  /**
   * Its actions touch nothing outside this process (fake): the conductor records a step's request
   * and result in one append instead of the request before the action (ADR 0125).
   */
  readonly instant?: true
}

export interface PowerInterface extends InterfaceBase<"power"> {
  readonly status: (n: NodeState) => Act<ChassisPower>
  readonly powerOn: (n: NodeState) => Act<void>
  readonly powerOff: (n: NodeState) => Act<void>
  /** Graceful shutdown; fails where the hardware cannot. */
  readonly softPowerOff: (n: NodeState) => Act<void>
  /** Power cycle; the node is on afterwards. */
  readonly reboot: (n: NodeState) => Act<void>
}

export interface ManagementInterface extends InterfaceBase<"management"> {
  /** Sets the device the node boots from next (and after, when persistent); a refusal fails the step. */
  readonly setBootDevice: (n: NodeState, device: BootDevice, persistent: boolean) => Act<void>
  /** The node's indicators (LEDs, API 1.63); absent where the interface has none (ipmitool). */
  readonly indicators?: import("./indicators.ts").Indicators
  /** Pulses a non-maskable interrupt (Ironic's inject_nmi, API 1.29); absent where the hardware has no way to. */
  readonly injectNmi?: (n: NodeState) => Act<void>
}

export interface BootInterface extends InterfaceBase<"boot"> {
  readonly configurator: BootConfigurator["Service"]
  /** Where deploy kernels and ramdisks are read from. */
  readonly images: ImageStore["Service"]
  /** Deploy kernel and ramdisk (image ids) for nodes whose driver_info names none. */
  readonly defaultDeployImages?: { readonly kernel: string; readonly ramdisk: string }
  /**
   * Virtual media: the ramdisk boots from a medium the BMC is given instead of the network. The
   * configurator builds the node's boot files (an ISO); `apply` runs after each of its changes and
   * tells the BMC (insert the medium for "deploy", eject it for "boot" or null).
   */
  readonly media?: {
    readonly device: "cdrom"
    readonly apply: (n: NodeState, label: "deploy" | "boot" | "rescue" | null) => Act<void>
  }
}

/**
 * "ramdisk": the deploy and the cleaning boot a ramdisk that exports the disk and calls back (the
 * seeds' iSCSI deploy). "instant": nothing to boot, write or wait for (Ironic's fake deploy).
 */
export type DeployInterface = InterfaceBase<"deploy"> & (
  | { readonly style: "instant" }
  | {
    readonly style: "ramdisk"
    readonly block: BlockWriter["Service"]
    readonly images: ImageStore["Service"]
    readonly ramdisk: DeployRamdisk["Service"]
    /** Simulated machines may deploy without an image: nothing is written. */
    readonly imageOptional: boolean
    /** Where config drives are built and kept; without it, a deploy with a config drive is refused. */
    readonly configDrives?: ConfigDriveMedia
  }
)

/** A BIOS setting as the BMC reports it (Ironic's BIOS setting: name and value as text). */
export interface BiosSetting {
  readonly name: string
  readonly value: string | null
  /** What the BMC's attribute registry says of it (API 1.74), when it has one. */
  readonly registry?: import("../../domain/index.ts").BiosRegistryEntry
}

/** Reads the node's current BIOS settings; changes are its steps (bios.apply_configuration, ...). */
export interface BiosInterface extends InterfaceBase<"bios"> {
  readonly settings: (n: NodeState) => Act<ReadonlyArray<BiosSetting>>
}

/** A firmware component and the version it runs now ("bios", "bmc", ...). */
export interface FirmwareComponent { readonly component: string; readonly version: string }

/** Reads the node's firmware versions; updates are its steps (firmware.update). */
export interface FirmwareInterface extends InterfaceBase<"firmware"> {
  readonly components: (n: NodeState) => Act<ReadonlyArray<FirmwareComponent>>
}

/** Slots declared and chosen per node, whose work is not carried by an interface yet. */
export type DeclaredSlot = Exclude<InterfaceSlot, "power" | "management" | "boot" | "deploy">

/** An interface of a declared slot that carries no work of its own (no-bios, fake ...). */
export type DeclaredInterface = { [S in DeclaredSlot]: InterfaceBase<S> }[DeclaredSlot]

export type AnyInterface =
  | PowerInterface | ManagementInterface | BootInterface | DeployInterface | DeclaredInterface
  | BiosInterface | FirmwareInterface

export type InterfaceOf<S extends InterfaceSlot> = Extract<AnyInterface, { readonly slot: S }>

/** A node's interfaces, one per slot, as its hardware type and its own choices resolve them. */
export type NodeHardware = { readonly [S in InterfaceSlot]: InterfaceOf<S> }

/** A declared-only interface: a name and a description, nothing to do. */
export const declared = <S extends DeclaredSlot>(slot: S, name: string, description: string, unsupported = false): DeclaredInterface =>
  ({ slot, name, description, properties: [], ...(unsupported ? { unsupported: true as const } : {}) })
