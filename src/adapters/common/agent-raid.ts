// The "agent" RAID interface (Ironic's name): software RAID built by the deploy ramdisk with mdadm
// across the machine's local disks, from the node's target_raid_config (ADR 0101). Its steps run
// in-band, as the deploy interface's erase steps do; the service hands the ramdisk the array to
// build (cleaning/raid-plan.ts), and what it built becomes the node's raid_config.
import type { DeclaredInterface } from "../../application/hardware/interfaces.ts"

export const agentRaid: DeclaredInterface = {
  slot: "raid", name: "agent",
  description: "Software RAID (mdadm) across the local disks, built by the deploy ramdisk from target_raid_config.",
  properties: [],
  steps: [
    {
      where: "in-band", name: "create_configuration", priority: 0,
      description: "Build the target_raid_config's array with mdadm across every local disk; the deploy then writes to it.",
      args: {
        create_root_volume: { description: "Build the root volume (default true)." },
        create_nonroot_volumes: { description: "Build the other volumes (default true; the software RAID builds only a root volume)." },
        delete_existing: { description: "Stop and wipe arrays that exist first (default true)." },
      },
    },
    {
      where: "in-band", name: "delete_configuration", priority: 0,
      description: "Stop every md array and wipe the RAID superblocks of its members.",
      args: {},
    },
  ],
}
