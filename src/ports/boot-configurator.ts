// BootConfigurator port: what a node finds when it network-boots (PXE config, kernels, MAC links).
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"

export interface DeployBoot {
  readonly nodeId: string
  readonly macs: ReadonlyArray<string>
  /** Local files (from the ImageStore) to expose to the node over TFTP. */
  readonly deployKernel: string
  readonly deployRamdisk: string
  readonly kernel: string | null
  readonly ramdisk: string | null
  readonly deployId: string
  /** The per-deploy key in plain text: it goes into the PXE config only, never into the log. */
  readonly deployKey: string
  readonly iscsiIqn: string
  readonly apiUrl: string
}

/**
 * What a boot interface that carries the ramdisk itself (virtual media) needs to boot it in rescue
 * mode; a PXE tree already holds the deploy kernel and ramdisk and reads the rest back.
 */
export interface RescueBoot {
  readonly macs: ReadonlyArray<string>
  readonly deployKernel: string
  readonly deployRamdisk: string
  readonly apiUrl: string
}

export class BootConfigFailed extends Data.TaggedError("BootConfigFailed")<{
  readonly nodeId: string
  readonly reason: string
}> {
  override get message() { return `boot config of node ${this.nodeId}: ${this.reason}` }
}

export class BootConfigurator extends Context.Service<BootConfigurator, {
  /** Writes the node's config with `default deploy` and links one entry per MAC. */
  readonly prepareDeploy: (boot: DeployBoot) => Effect.Effect<void, BootConfigFailed>
  /**
   * Rewrites the config to `default boot`: the instance kernel with root=UUID=<rootUuid> for a
   * partition image, or boot from the local disk (pxelinux `localboot 0`) when rootUuid is null
   * (whole-disk images carry their own boot loader).
   */
  readonly switchToBoot: (nodeId: string, rootUuid: string | null) => Effect.Effect<void, BootConfigFailed>
  /**
   * Rewrites the config to `default rescue`: the deploy ramdisk in rescue mode, with the rescue's
   * ramdisk key when given (ADR 0095), never the deploy key. `boot` is given to boot interfaces
   * that carry the ramdisk themselves (`media`).
   */
  readonly switchToRescue: (nodeId: string, rescueKey?: string, boot?: RescueBoot) => Effect.Effect<void, BootConfigFailed>
  /** The label the node would boot now, or null when it has no config. */
  readonly currentLabel: (nodeId: string) => Effect.Effect<"deploy" | "boot" | "rescue" | null, BootConfigFailed>
  /** Removes exactly this node's files and links. Idempotent. */
  readonly clean: (nodeId: string, macs: ReadonlyArray<string>) => Effect.Effect<void, BootConfigFailed>
}>()("ironledger/BootConfigurator") {}
