// Interfaces every hardware type may name for a slot it does not fill: Ironic's "no-*" and "noop".
import { declared } from "../../application/hardware/interfaces.ts"
import type { Vendor } from "../../application/hardware/hardware-type.ts"
import { agentInspect } from "./agent-inspect.ts"
import { agentRescue } from "./agent-rescue.ts"
import { agentRaid } from "./agent-raid.ts"

/** Every slot a hardware type does not fill, named by its "no-*" (or noop) interface. */
export const unsupportedSlots = {
  bios: ["no-bios"], console: ["no-console"], firmware: ["no-firmware"], inspect: ["no-inspect"], raid: ["no-raid"],
  rescue: ["no-rescue"], vendor: ["no-vendor"], network: ["noop"], storage: ["noop"],
} as const

export const notSupported: Vendor = {
  hardwareTypes: [],
  interfaces: [
    declared("bios", "no-bios", "No BIOS settings.", true),
    declared("console", "no-console", "No serial console.", true),
    declared("firmware", "no-firmware", "No firmware updates.", true),
    declared("inspect", "no-inspect", "No hardware inspection.", true),
    // Any hardware type booting the ramdisk agent may offer it (ADR 0058).
    agentInspect,
    declared("raid", "no-raid", "No RAID configuration.", true),
    // Any hardware type booting the ramdisk agent may offer it (ADR 0101).
    agentRaid,
    declared("rescue", "no-rescue", "No rescue.", true),
    // Any hardware type booting the ramdisk agent may offer it (ADR 0095).
    agentRescue,
    declared("vendor", "no-vendor", "No vendor passthru methods.", true),
    declared("network", "noop", "The node's network is left as it is (flat provisioning network)."),
    declared("storage", "noop", "No remote volumes."),
  ],
}
