// A rescue with the "agent" rescue interface (ADR 0095), as an inspection boots its ramdisk:
//   key -> PXE rescue config (the deploy ramdisk in rescue mode, with the key) -> boot device pxe
//   -> rescue wait -> reboot -> the ramdisk fetches the password hash with its key, sets it,
//   starts a login on the serial console and reports ready -> rescue.
// Unrescue puts the instance's boot label back and reboots (plan.ts); a rescue whose ramdisk never
// reports times out into rescue failed.
import type { NodeState } from "../../domain/index.ts"
import { rescueReady } from "../../domain/rescue.ts"
import { awaitCallback, complete, fail, powerOnOrReboot, pxe, waitOrTimeOut, walk, type Plan, type PlanContext } from "./plan.ts"

export const rescueSteps = (s: NodeState, ctx: PlanContext): Plan => {
  if (rescueReady(s)) return complete
  if (s.cleaningRamdisk === null) return { kind: "issueRamdiskKey" }
  return walk(s, [
    { name: "rescue:pxe", request: pxe("rescue") },
    { name: "rescue:boot-device", request: (step) => ({ type: "BootDeviceRequested", data: { step, device: "pxe", persistent: true } }) },
  ], () => awaitCallback(ctx), fail)
}

/** In rescue wait: the machine reboots into the rescue ramdisk, then the wait runs to its deadline. */
export const rescueWait = (s: NodeState, ctx: PlanContext): Plan =>
  walk(s, [{ name: "rescue:reboot", request: powerOnOrReboot(s) }], () => waitOrTimeOut(s, ctx), fail)
