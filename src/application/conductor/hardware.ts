// A driver is a set of port implementations (Ironic's hardware type = power + boot + deploy ...).
// Nodes name their driver; the conductor looks the set up here, so real racks and simulated
// machines run side by side in one service.
import type { Driver } from "../../domain/index.ts"
import type { BlockWriter, BootConfigurator, DeployRamdisk, ImageStore, PowerDriver } from "../../ports/index.ts"

export interface Hardware {
  readonly power: PowerDriver["Service"]
  readonly boot: BootConfigurator["Service"]
  readonly block: BlockWriter["Service"]
  readonly images: ImageStore["Service"]
  readonly ramdisk: DeployRamdisk["Service"]
  /** Simulated drivers may deploy without an image, as Ironic's fake-hardware does. */
  readonly simulated: boolean
  /** Deploy kernel and ramdisk (image ids) for nodes whose driver_info names none. */
  readonly defaultDeployImages?: { readonly kernel: string; readonly ramdisk: string }
}

export type Drivers = Partial<Record<Driver, Hardware>>
