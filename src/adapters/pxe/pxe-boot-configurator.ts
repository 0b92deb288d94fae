// The PXE BootConfigurator: Ironic's TFTP tree on local disk (fs-tree.ts), optionally with the
// service's managed dnsmasq told about every change of MAC links. Opening it reconciles the tree
// once (reconcile.ts); no later operation walks it (ADR 0120).
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { BootConfigurator } from "../../ports/boot-configurator.ts"
import { makeBootConfigurator, type ConfiguratorOptions, type LinksChange } from "./configurator.ts"
import type { Dnsmasq } from "./dnsmasq.ts"
import { makeFsTree } from "./fs-tree.ts"
import { reconcileTree } from "./reconcile.ts"

export interface PxeBootConfiguratorConfig extends Omit<ConfiguratorOptions, "onLinksChanged"> {
  /** The directory the TFTP server serves. */
  readonly tftpRoot: string
  /** The DHCP server to keep in step with the MAC links. */
  readonly dnsmasq?: Pick<Dnsmasq, "changeBootMacs">
}

/** A change of links as a change of the DHCP server's hosts. */
export const tellDhcp = (server: Pick<Dnsmasq, "changeBootMacs">) => (change: LinksChange) =>
  server.changeBootMacs({ add: change.linked, remove: change.unlinked })

export const makePxeBootConfigurator = async (config: PxeBootConfiguratorConfig): Promise<BootConfigurator["Service"]> => {
  const tree = await makeFsTree(config.tftpRoot)
  const { removed } = await reconcileTree(tree)
  if (removed.length > 0 && config.dnsmasq !== undefined)
    await Effect.runPromise(config.dnsmasq.changeBootMacs({ add: [], remove: removed }))
  return makeBootConfigurator(tree, {
    apiUrl: config.apiUrl,
    appendParams: config.appendParams,
    ...(config.dnsmasq === undefined ? {} : { onLinksChanged: tellDhcp(config.dnsmasq) }),
  })
}

export const PxeBootConfigurator = (config: PxeBootConfiguratorConfig): Layer.Layer<BootConfigurator> =>
  Layer.effect(BootConfigurator, Effect.promise(() => makePxeBootConfigurator(config)))
