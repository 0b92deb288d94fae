// PXE boot: the TFTP tree, its pxelinux configs, and the dnsmasq that serves them.
export { PxeBootConfigurator, makePxeBootConfigurator, type PxeBootConfiguratorConfig } from "./pxe-boot-configurator.ts"
export { startDnsmasq, DnsmasqFailed, type Dnsmasq, type DnsmasqSettings } from "./dnsmasq.ts"
export type { DnsmasqMode, DhcpHostsPolicy } from "./dnsmasq-config.ts"
export { renderPxeConfig, parsePxeConfig, type PxeConfig, type PxeLabel } from "./pxelinux-config.ts"
