// Deploy steps (Ironic's, API 1.55 deploy templates and 1.69 deploy_steps): an interface's step
// with its arguments and a priority; higher priorities run first, 0 means "do not run". A deploy
// gathers the steps of the deploy templates named by the instance's traits, then those the user
// sent, which replace a template's step of the same interface and name.
import * as t from "io-ts"

/** Ironic's DEPLOYING_INTERFACE_PRIORITY: which interface goes first when priorities tie. */
export const deployStepInterfaces = { vendor: 7, power: 6, management: 5, firmware: 4, deploy: 3, bios: 2, raid: 1 } as const
export type DeployStepInterface = keyof typeof deployStepInterfaces

export const DeployStep = t.type({
  interface: t.keyof(deployStepInterfaces),
  step: t.string,
  args: t.UnknownRecord,
  priority: t.number,
}, "DeployStep")
export type DeployStep = t.TypeOf<typeof DeployStep>

const key = (s: DeployStep) => `${s.interface}.${s.step}`

/** The steps a deploy runs, in order: templates' first, overridden by the user's, priority 0 dropped. */
export const mergeDeploySteps = (fromTemplates: ReadonlyArray<DeployStep>, fromUser: ReadonlyArray<DeployStep>): ReadonlyArray<DeployStep> => {
  const byKey = new Map<string, DeployStep>()
  for (const s of [...fromTemplates, ...fromUser]) byKey.set(key(s), s)
  return [...byKey.values()]
    .filter((s) => s.priority > 0)
    .sort((a, b) => b.priority - a.priority || deployStepInterfaces[b.interface] - deployStepInterfaces[a.interface])
}

/** "interface: X, step: Y" of each step named more than once, as Ironic's duplicate_steps says it. */
export const duplicateSteps = (steps: ReadonlyArray<DeployStep>): ReadonlyArray<string> => {
  const seen = new Set<string>()
  const twice = new Set<string>()
  for (const s of steps) (seen.has(key(s)) ? twice : seen).add(key(s))
  return [...twice].map((k) => `interface: ${k.split(".")[0]}, step: ${k.slice(k.indexOf(".") + 1)}`)
}
