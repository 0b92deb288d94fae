// The "agent" inspect interface (Ironic's name): the deploy ramdisk boots, gathers the machine's
// inventory and posts it with the inspection's key; the conductor drives it (ADR 0058).
import { declared } from "../../application/hardware/interfaces.ts"

export const agentInspect = declared("inspect", "agent", "The ramdisk reports the machine's inventory (CPUs, memory, disks, NICs, vendor, boot mode).")
