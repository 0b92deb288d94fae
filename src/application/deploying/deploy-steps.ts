// Which deploy steps a node can run: out-of-band steps its interfaces offer (the same catalogue
// as cleaning's: BIOS apply_configuration and factory_reset on redfish, for instance), run by the
// conductor before the deploy ramdisk boots. Unknown steps are refused, all named at once.
import * as E from "fp-ts/lib/Either.js"
import type { DeployStep, NodeState } from "../../domain/index.ts"
import type { NodeHardware } from "../hardware/interfaces.ts"
import { offeredSteps, type ResolvedStep } from "../cleaning/steps-offered.ts"

export const checkDeploySteps = (hw: NodeHardware, steps: ReadonlyArray<DeployStep>): E.Either<string, ReadonlyArray<ResolvedStep>> => {
  const offered = new Map([...offeredSteps(hw)].filter(([, spec]) => spec.where === "out-of-band"))
  const unknown = steps.map((s) => `${s.interface}.${s.step}`).filter((name) => !offered.has(name))
  if (unknown.length > 0) {
    return E.left(`Deploy step(s) ${unknown.map((n) => n.slice(0, 80)).join(", ")} are not offered by this node's interfaces; ` +
      `offered (out-of-band, run before the ramdisk boots): ${[...offered.keys()].join(", ") || "none"}.`)
  }
  const out: ResolvedStep[] = []
  for (const step of steps) {
    const name = `${step.interface}.${step.step}`
    const spec = offered.get(name)!
    const unknownArgs = Object.keys(step.args).filter((a) => !Object.hasOwn(spec.args, a))
    if (unknownArgs.length > 0) return E.left(`Deploy step ${name} takes no argument ${unknownArgs.join(", ")}; it takes: ${Object.keys(spec.args).join(", ") || "none"}.`)
    const missing = Object.entries(spec.args).filter(([a, s]) => s.required === true && !Object.hasOwn(step.args, a)).map(([a]) => a)
    if (missing.length > 0) return E.left(`Deploy step ${name} needs the argument(s) ${missing.join(", ")}.`)
    out.push({ name, args: step.args, where: "out-of-band", rebootAfter: spec.rebootAfter === true })
  }
  return E.right(out)
}

/** The running deploy's steps, resolved against the node's interfaces (checked when the deploy was asked for). */
export const deployStepsOf = (n: NodeState, hw: NodeHardware): ReadonlyArray<ResolvedStep> => {
  const asked = n.deploy?.deploySteps ?? []
  const checked = checkDeploySteps(hw, asked)
  // An interface changed since offers less: the deploy fails on that step.
  return E.isRight(checked) ? checked.right
    : asked.map((s) => ({ name: `${s.interface}.${s.step}`, args: s.args, where: "out-of-band" as const, rebootAfter: false }))
}
