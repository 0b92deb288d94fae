// A rescue with the "agent" rescue interface (ADR 0095), as an inspection boots its ramdisk:
//   key -> PXE rescue config (the deploy ramdisk in rescue mode, with the key; or its virtual-media
//   ISO) -> boot device pxe (or cdrom once)
//   -> rescue wait -> reboot -> the ramdisk fetches the password hash with its key, sets it,
//   starts a login on the serial console and reports ready -> rescue.
// Unrescue puts the instance's boot label back and reboots (plan.ts); a rescue whose ramdisk never
// reports times out into rescue failed.
import type { NodeState } from "../../domain/index.ts"
import { rescueReady } from "../../domain/rescue.ts"
import { awaitCallback, complete, fail, powerOnOrReboot, pxe, ramdiskBootDevice, waitOrTimeOut, walk, type Plan, type PlanContext } from "./plan.ts"

export const rescueSteps = (s: NodeState, ctx: PlanContext): Plan => {
  if (rescueReady(s)) return complete
  if (s.cleaningRamdisk === null) return { kind: "issueRamdiskKey" }
  return walk(s, [
    { name: "rescue:pxe", request: pxe("rescue") },
    // PXE persistently, or the virtual CD once (ADR 0145), as a deploy's ramdisk boots.
    { name: "rescue:boot-device", request: ramdiskBootDevice(ctx) },
  ], () => awaitCallback(ctx), fail)
}

/** In rescue wait: the machine reboots into the rescue ramdisk, then the wait runs to its deadline. */
export const rescueWait = (s: NodeState, ctx: PlanContext): Plan =>
  walk(s, [{ name: "rescue:reboot", request: powerOnOrReboot(s) }], () => waitOrTimeOut(s, ctx), fail)
