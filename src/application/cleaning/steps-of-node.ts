// The steps a node's running cleaning runs: those asked for in a manual clean (checked when asked),
// else the configured automated ones its interfaces offer.
import * as E from "fp-ts/lib/Either.js"
import type { NodeState } from "../../domain/index.ts"
import type { NodeHardware } from "../hardware/interfaces.ts"
import { automatedSteps, checkCleanSteps, type ResolvedStep } from "./steps-offered.ts"
import { withRaidPlan } from "./raid-plan.ts"

export const cleanStepsOf = (n: NodeState, hw: NodeHardware, configured: ReadonlyArray<string>): ReadonlyArray<ResolvedStep> => {
  const asked = n.operation?.cleanSteps
  if (asked === undefined) return automatedSteps(hw, configured)
  const checked = checkCleanSteps(hw, asked)
  // Checked when asked for; an interface changed since offers less: the cleaning fails on the step.
  return E.isRight(checked) ? checked.right.map((s) => withRaidPlan(n, s))
    : asked.map((c) => ({ name: `${c.interface}.${c.step}`, args: c.args ?? {}, where: "out-of-band" as const, rebootAfter: false }))
}
