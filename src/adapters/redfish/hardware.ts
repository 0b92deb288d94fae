// The "redfish" hardware type: power, boot device, BIOS and firmware over Redfish (DMTF's REST
// API for BMCs) through undici; PXE boot and the iSCSI deploy over the network (../netboot).
import type { Vendor } from "../../application/hardware/hardware-type.ts"
import { unsupportedSlots } from "../common/declared.ts"
import { redfishBios } from "./bios.ts"
import { makeRedfishClient, type RedfishClientConfig } from "./client.ts"
import { redfishFirmware } from "./firmware.ts"
import { redfishManagement, redfishPower } from "./power.ts"

export interface RedfishConfig extends RedfishClientConfig {
  /** How long a firmware update task may run; default 20 min. */
  readonly taskTimeoutMs: number
}

export const redfishInterfaces = (config: Partial<RedfishConfig> = {}) => {
  const client = makeRedfishClient(config)
  return {
    power: redfishPower(client),
    management: redfishManagement(client),
    bios: redfishBios(client),
    firmware: redfishFirmware(client, config.taskTimeoutMs === undefined ? {} : { taskTimeoutMs: config.taskTimeoutMs }),
  }
}

export const redfish = (config: Partial<RedfishConfig> = {}): Vendor => {
  const i = redfishInterfaces(config)
  return {
    hardwareTypes: [{
      name: "redfish",
      description: "Servers with a Redfish BMC: power, boot device, BIOS settings and firmware over Redfish; PXE boot, iSCSI deploy.",
      interfaces: { ...unsupportedSlots, power: ["redfish"], management: ["redfish"], bios: ["redfish", "no-bios"], firmware: ["redfish", "no-firmware"], boot: ["pxe"], deploy: ["iscsi"] },
    }],
    interfaces: [i.power, i.management, i.bios, i.firmware],
  }
}
