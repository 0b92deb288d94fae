// An inspection with the "agent" inspect interface (ADR 0058), as a cleaning boots its ramdisk:
//   key -> PXE deploy config -> boot device pxe -> inspect wait -> power on -> the ramdisk posts
//   its inventory -> power off -> PXE config removed -> done, with the properties it gives.
import * as E from "fp-ts/lib/Either.js"
import type { NodeState } from "../../domain/index.ts"
import { inventoryReceived } from "../../domain/inspection.ts"
import { inspectedProperties, parseInventory } from "../inspection/inventory.ts"
import { awaitCallback, cleanUp, fail, pxe, ramdiskBootDevice, stop, walk, type Plan, type PlanContext } from "./plan.ts"

export const inspectionSteps = (s: NodeState, ctx: PlanContext): Plan => {
  if (!inventoryReceived(s)) {
    if (s.cleaningRamdisk === null) return { kind: "issueRamdiskKey" }
    return walk(s, [
      { name: "inspect:pxe", request: pxe("deploy") },
      { name: "inspect:boot-device", request: ramdiskBootDevice(ctx) },
    ], () => awaitCallback(ctx), fail)
  }
  // Checked when it was posted; a log written by hand may still hold junk.
  const inventory = parseInventory(s.inventory!.data)
  if (E.isLeft(inventory)) return fail(inventory.left)
  // A rule's failure fails the inspection; the properties rules set win over what was found (ADR 0142).
  if (s.inventory!.ruleFailure !== undefined) return fail(s.inventory!.ruleFailure)
  const properties = { ...inspectedProperties(inventory.right, s.properties, s.inventory!.rootDisk), ...s.inventory!.ruleProperties }
  return walk(s, cleanUp("inspect"), () => ({ kind: "command", command: { type: "Complete", properties } }), fail)
}

/** A failed or aborted inspection leaves the machine off and its PXE config gone. */
export const inspectionCleanUp = (s: NodeState): Plan =>
  walk(s, cleanUp("inspect-failed"), () => ({ kind: "idle", why: "inspection failed, cleaned up" }), stop("clean-up failed"))
