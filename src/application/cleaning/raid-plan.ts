// What raid.create_configuration hands the ramdisk: the node's target_raid_config turned into the
// one array the software RAID builds (domain/raid.ts), as flat arguments its shell reads. A target
// the software RAID can not build is handed over as `raid_error`: the ramdisk reports it as the
// step's failure, so the cleaning fails with that message through the one path every step takes.
import * as E from "fp-ts/lib/Either.js"
import { RAID_CREATE, softwareRaidPlan, type NodeState } from "../../domain/index.ts"
import type { ResolvedStep } from "./steps-offered.ts"

export const withRaidPlan = (n: NodeState, step: ResolvedStep): ResolvedStep => {
  if (step.name !== RAID_CREATE) return step
  const plan = softwareRaidPlan(n.targetRaidConfig ?? {})
  return { ...step, args: { ...step.args, ...(E.isRight(plan) ? plan.right : { raid_error: plan.left }) } }
}
