// The PXE BootConfigurator: Ironic's TFTP tree on local disk (fs-tree.ts), optionally with the
// service's managed dnsmasq told about every change of MAC links.
import { Effect, Layer } from "effect"
import { BootConfigurator } from "../../ports/boot-configurator.ts"
import { makeBootConfigurator, type ConfiguratorOptions } from "./configurator.ts"
import type { Dnsmasq } from "./dnsmasq.ts"
import { makeFsTree } from "./fs-tree.ts"

export interface PxeBootConfiguratorConfig extends Omit<ConfiguratorOptions, "onLinksChanged"> {
  /** The directory the TFTP server serves. */
  readonly tftpRoot: string
  /** The DHCP server to keep in step with the MAC links. */
  readonly dnsmasq?: Pick<Dnsmasq, "setBootMacs">
}

export const makePxeBootConfigurator = async (config: PxeBootConfiguratorConfig): Promise<BootConfigurator["Service"]> =>
  makeBootConfigurator(await makeFsTree(config.tftpRoot), {
    apiUrl: config.apiUrl,
    appendParams: config.appendParams,
    onLinksChanged: config.dnsmasq?.setBootMacs,
  })

export const PxeBootConfigurator = (config: PxeBootConfiguratorConfig): Layer.Layer<BootConfigurator> =>
  Layer.effect(BootConfigurator, Effect.promise(() => makePxeBootConfigurator(config)))
