// The "redfish" hardware type: power, boot device, BIOS and firmware over Redfish (DMTF's REST
// API for BMCs) through undici; PXE boot and the iSCSI deploy over the network (../netboot), or
// the ramdisk from virtual media (redfish-virtual-media) where the service is given where to keep ISOs.
import type { Vendor } from "../../application/hardware/hardware-type.ts"
import { unsupportedSlots } from "../common/declared.ts"
import { redfishBios } from "./bios.ts"
import { makeRedfishClient, type RedfishClientConfig } from "./client.ts"
import { redfishFirmware } from "./firmware.ts"
import { redfishManagement, redfishPower } from "./power.ts"
import { redfishVirtualMedia, type VirtualMediaConfig } from "./virtual-media.ts"

export interface RedfishConfig extends RedfishClientConfig {
  /** How long a firmware update task may run; default 20 min. */
  readonly taskTimeoutMs: number
  /** Enables the redfish-virtual-media boot interface: where ISOs are built, served from and read. */
  readonly virtualMedia: VirtualMediaConfig
}

export const redfishInterfaces = (config: Partial<RedfishConfig> = {}) => {
  const client = makeRedfishClient(config)
  const management = redfishManagement(client)
  return {
    power: redfishPower(client),
    management,
    bios: redfishBios(client),
    firmware: redfishFirmware(client, config.taskTimeoutMs === undefined ? {} : { taskTimeoutMs: config.taskTimeoutMs }),
    virtualMedia: config.virtualMedia === undefined ? null : redfishVirtualMedia(client, management, config.virtualMedia),
  }
}

export const redfish = (config: Partial<RedfishConfig> = {}): Vendor => {
  const i = redfishInterfaces(config)
  return {
    hardwareTypes: [{
      name: "redfish",
      description: "Servers with a Redfish BMC: power, boot device, BIOS settings and firmware over Redfish; PXE boot, iSCSI deploy.",
      interfaces: {
        ...unsupportedSlots, power: ["redfish"], management: ["redfish"], bios: ["redfish", "no-bios"], firmware: ["redfish", "no-firmware"],
        boot: i.virtualMedia === null ? ["pxe"] : ["pxe", "redfish-virtual-media"], deploy: ["iscsi"],
        // What the ramdisk does in-band is the same whatever the BMC speaks (ADR 0058, 0095, 0101).
        inspect: ["agent", "no-inspect"], rescue: ["agent", "no-rescue"], raid: ["no-raid", "agent"],
      },
    }],
    interfaces: [i.power, i.management, i.bios, i.firmware, ...(i.virtualMedia === null ? [] : [i.virtualMedia])],
  }
}
