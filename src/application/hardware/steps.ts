// Steps an interface offers for cleaning (and later deploy/service), named as Ironic names them:
// "<slot>.<name>", e.g. "bios.apply_configuration", "deploy.erase_devices".
// Out-of-band steps run in the conductor through the interface itself (a BMC call); in-band steps
// run inside the ramdisk, which reports their outcome over its authenticated API.
import type { Act } from "./interfaces.ts"
import type { NodeState } from "../../domain/index.ts"

export interface StepArgSpec {
  readonly description: string
  readonly required?: true
}

/** What a finished step leaves in the node's history: a one-line summary and its own figures. */
export interface StepOutcome {
  readonly summary: string
  /** Tool output worth keeping (bogo ops, IOPS, settings applied ...); JSON only, never secrets. */
  readonly details?: Readonly<Record<string, unknown>>
}

interface StepBase {
  /** Without the slot: "apply_configuration". */
  readonly name: string
  readonly description: string
  /** Automated cleaning runs steps with priority > 0, highest first; 0 = manual only. */
  readonly priority: number
  readonly args: Readonly<Record<string, StepArgSpec>>
  /** The step ends with a reboot the conductor must carry out before the next one (e.g. BIOS). */
  readonly rebootAfter?: true
}

export type StepSpec =
  | (StepBase & { readonly where: "out-of-band"; readonly run: (n: NodeState, args: Readonly<Record<string, unknown>>) => Act<StepOutcome> })
  | (StepBase & { readonly where: "in-band" })
