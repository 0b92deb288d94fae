// Which cleaning steps a node can run: the steps its interfaces offer (steps.ts), a manual clean's
// request checked against them, and the automated cleaning's configured list narrowed to them.
import * as E from "fp-ts/lib/Either.js"
import { interfaceSlots, type CleanStep } from "../../domain/index.ts"
import type { NodeHardware } from "../hardware/interfaces.ts"
import type { StepSpec } from "../hardware/steps.ts"

/** A step resolved for one node: what the conductor plans with. */
export interface ResolvedStep {
  /** "<slot>.<name>" */
  readonly name: string
  readonly args: Readonly<Record<string, unknown>>
  readonly where: "in-band" | "out-of-band"
  readonly rebootAfter: boolean
}

// The registry hands out one NodeHardware per driver and interfaces: its steps are listed once.
const offeredOf = new WeakMap<NodeHardware, ReadonlyMap<string, StepSpec>>()

export const offeredSteps = (hw: NodeHardware): ReadonlyMap<string, StepSpec> => {
  let offered = offeredOf.get(hw)
  if (offered === undefined) {
    offered = new Map(interfaceSlots.flatMap((slot) => (hw[slot].steps ?? []).map((s) => [`${slot}.${s.name}`, s] as const)))
    offeredOf.set(hw, offered)
  }
  return offered
}

const resolve = (spec: StepSpec, name: string, args: Readonly<Record<string, unknown>>): ResolvedStep =>
  ({ name, args, where: spec.where, rebootAfter: spec.rebootAfter === true })

/** A manual clean's steps, each offered by the node's interfaces with the arguments it takes. */
export const checkCleanSteps = (hw: NodeHardware, steps: ReadonlyArray<CleanStep>): E.Either<string, ReadonlyArray<ResolvedStep>> => {
  const offered = offeredSteps(hw)
  if (steps.length === 0) return E.left("clean_steps must name at least one step.")
  const out: ResolvedStep[] = []
  for (const step of steps) {
    const name = `${step.interface}.${step.step}`
    const spec = offered.get(name)
    if (spec === undefined) {
      return E.left(`Clean step ${name.slice(0, 80)} is not offered by this node's interfaces; offered: ${[...offered.keys()].join(", ") || "none"}.`)
    }
    const args = step.args ?? {}
    const unknown = Object.keys(args).filter((a) => !Object.hasOwn(spec.args, a))
    if (unknown.length > 0) return E.left(`Clean step ${name} takes no argument ${unknown.join(", ")}; it takes: ${Object.keys(spec.args).join(", ") || "none"}.`)
    const missing = Object.entries(spec.args).filter(([a, s]) => s.required === true && !Object.hasOwn(args, a)).map(([a]) => a)
    if (missing.length > 0) return E.left(`Clean step ${name} needs the argument(s) ${missing.join(", ")}.`)
    out.push(resolve(spec, name, args))
  }
  // A reboot would end the ramdisk that runs the in-band steps of the same cleaning.
  if (out.some((s) => s.rebootAfter) && out.some((s) => s.where === "in-band")) {
    return E.left("Steps that end with a reboot (e.g. BIOS) and in-band steps can not share a cleaning; run them in two.")
  }
  return E.right(out)
}

/** The configured automated steps the node offers, in the configured order; others are skipped. */
export const automatedSteps = (hw: NodeHardware, configured: ReadonlyArray<string>): ReadonlyArray<ResolvedStep> => {
  const offered = offeredSteps(hw)
  return configured.flatMap((name) => {
    const spec = offered.get(name)
    return spec === undefined ? [] : [resolve(spec, name, {})]
  })
}
