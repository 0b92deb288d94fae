// Provision and power requests: what the node should go through next, recorded for the conductor.
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import { mergeDeploySteps, type CleanStep, type ConfigDriveRef, type DeployStep, type NodeState, type QueuedAction, type Uuid } from "../../domain/index.ts"
import type { DeployTemplates } from "../deploy-templates.ts"
import { checkDeploySteps } from "../deploying/deploy-steps.ts"
import type { NodeHardware } from "../hardware/interfaces.ts"
import { checkCleanSteps } from "../cleaning/steps-offered.ts"
import { Ids, Secrets } from "../../ports/index.ts"
import { deploySpecFor } from "../deploy-spec.ts"
import { InvalidInput, type NodeService, type PowerTarget, type ProvisionOptions, type ProvisionTarget } from "../node-service.ts"
import { acceptConfigDrive, type ConfigDriveInput } from "../config-drive.ts"
import { mintRamdiskKey } from "../ramdisk-key.ts"
import { hashRescuePassword, rescuePasswordProblem } from "../rescue/password.ts"
import { asConflict, type NodeCore } from "./core.ts"

export const provisioning = (core: NodeCore, templates: DeployTemplates) => {
  const { registry, ids, secrets, context, run, resolve, withStore } = core
  /** What a provision target asks of the node, as it is carried out now or queued (abort is neither). */
  const provisionAction = (
    node: NodeState, target: Exclude<ProvisionTarget, "abort">, preserveEphemeral: boolean,
    configDrive: ConfigDriveInput | undefined, cleanSteps: ReadonlyArray<CleanStep> | undefined,
    userDeploySteps: ReadonlyArray<DeployStep> = [], disableRamdisk = false, rescuePassword: string | undefined = undefined,
  ) =>
    Effect.gen(function* () {
      let action: QueuedAction
      switch (target) {
        case "active": case "rebuild": {
          const hw = registry.resolve(node)
          if (E.isLeft(hw)) return yield* Effect.fail(new InvalidInput({ reason: hw.left }))
          const deploy = hw.right.deploy
          const imageOptional = deploy.style === "instant" || deploy.imageOptional
          const spec = deploySpecFor(node, imageOptional, {
            deployId: (yield* ids.uuid) as Uuid,
            ...yield* Effect.provideService(Effect.provideService(mintRamdiskKey, Ids, ids), Secrets, secrets),
            preserveEphemeral,
          })
          if (E.isLeft(spec)) return yield* Effect.fail(new InvalidInput({ reason: spec.left }))
          let drive: { configDrive?: ConfigDriveRef } = {}
          if (configDrive !== undefined) {
            // An instant deploy writes no disk: the drive is checked, then dropped, as Ironic's fake deploy does.
            const media = deploy.style === "instant" ? null : deploy.configDrives ?? null
            if (deploy.style === "ramdisk" && media === null) {
              return yield* Effect.fail(new InvalidInput({ reason: `deploy_interface ${deploy.name} writes no config drive; deploy without configdrive.` }))
            }
            const ref = yield* acceptConfigDrive(configDrive, node, media, secrets).pipe(
              Effect.catchTag("ConfigDriveFailed", (e) => Effect.die(new Error(`the config drive could not be prepared: ${e.reason}`))),
            )
            if (ref !== null) drive = { configDrive: ref }
          }
          const steps = yield* deployStepsFor(node, hw.right, userDeploySteps)
          action = { kind: "deploy", spec: { ...spec.right, ...drive, ...(steps.length === 0 ? {} : { deploySteps: [...steps] }) }, rebuild: target === "rebuild" }
          break
        }
        case "deleted": action = { kind: "provision", verb: "undeploy" }; break
        case "clean": {
          if (cleanSteps === undefined) { action = { kind: "provision", verb: "clean" }; break }
          const hw = registry.resolve(node)
          if (E.isLeft(hw)) return yield* Effect.fail(new InvalidInput({ reason: hw.left }))
          const checked = checkCleanSteps(hw.right, cleanSteps)
          if (E.isLeft(checked)) return yield* Effect.fail(new InvalidInput({ reason: checked.left }))
          // Out-of-band steps alone never boot the ramdisk: that is what disable_ramdisk asks for.
          const inBand = checked.right.filter((step) => step.where === "in-band").map((step) => step.name)
          if (disableRamdisk && inBand.length > 0) {
            return yield* Effect.fail(new InvalidInput({ reason: `disable_ramdisk was asked for, but clean step(s) ${inBand.join(", ")} run in the ramdisk.` }))
          }
          action = { kind: "provision", verb: "clean", cleanSteps: [...cleanSteps] }
          break
        }
        case "rescue": {
          if (rescuePassword === undefined) { action = { kind: "provision", verb: "rescue" }; break }
          const problem = rescuePasswordProblem(rescuePassword)
          if (problem !== null) return yield* Effect.fail(new InvalidInput({ reason: problem }))
          // From here on only the hash exists (ADR 0095).
          action = { kind: "provision", verb: "rescue", rescuePasswordHash: hashRescuePassword(rescuePassword) }
          break
        }
        default: action = { kind: "provision", verb: target }
      }
      return action
    })

  /**
   * A deploy's steps: those of the deploy templates named by instance_info.traits (which must be
   * traits of the node, as Ironic checks), overridden by the user's; each checked against the
   * node's interfaces, so an unknown step is a 400 naming it before anything is recorded.
   */
  const deployStepsFor = (node: NodeState, hw: NodeHardware, fromUser: ReadonlyArray<DeployStep>) =>
    Effect.gen(function* () {
      const asked = node.instanceInfo["traits"] ?? []
      if (!Array.isArray(asked) || asked.some((x) => typeof x !== "string")) {
        return yield* Effect.fail(new InvalidInput({ reason: "instance_info.traits must be a list of trait names." }))
      }
      const missing = (asked as Array<string>).filter((x) => !node.traits.includes(x))
      if (missing.length > 0) {
        return yield* Effect.fail(new InvalidInput({ reason: `Cannot specify instance traits that are not also node traits. Traits not in node: ${missing.join(", ")}.` }))
      }
      const matched = yield* withStore(templates.matching(asked as Array<string>))
      const steps = mergeDeploySteps(matched.flatMap((x) => x.steps), fromUser)
      const checked = checkDeploySteps(hw, steps)
      if (E.isLeft(checked)) return yield* Effect.fail(new InvalidInput({ reason: checked.left }))
      return steps
    })

  /** Provision targets an interface carries out: refused where the node's interface for it is unsupported ("no-*"). */
  const carriedBy: Partial<Record<ProvisionTarget, "inspect" | "rescue">> = { inspect: "inspect", rescue: "rescue" }

  const provision = (ref: string, target: ProvisionTarget, options: ProvisionOptions, actor: string) =>
    Effect.gen(function* () {
      const node = yield* resolve(ref)
      const slot = carriedBy[target]
      const hw = slot === undefined ? undefined : registry.resolve(node)
      if (slot !== undefined && hw !== undefined && E.isRight(hw) && hw.right[slot].unsupported) {
        return yield* Effect.fail(new InvalidInput({ reason: `Node ${node.nodeId} can not ${target}: its ${slot}_interface is ${hw.right[slot].name}.` }))
      }
      if (options.preserveEphemeral && target !== "rebuild") {
        return yield* Effect.fail(new InvalidInput({ reason: "preserve_ephemeral applies to rebuild only." }))
      }
      if (options.configDrive !== undefined && target !== "active" && target !== "rebuild") {
        return yield* Effect.fail(new InvalidInput({ reason: "configdrive applies to the active and rebuild targets only." }))
      }
      if (options.rescuePassword !== undefined && target !== "rescue") {
        return yield* Effect.fail(new InvalidInput({ reason: "rescue_password applies to rescue only." }))
      }
      if (options.cleanSteps !== undefined && target !== "clean") {
        return yield* Effect.fail(new InvalidInput({ reason: "clean_steps apply to clean only." }))
      }
      const ctx = yield* context(actor)
      // Abort acts at once (and clears the queue); anything else may wait behind the running action.
      if (target === "abort") return yield* Effect.asVoid(run(node.nodeId, { type: "Provision", verb: "abort" }, ctx))
      if (options.deploySteps !== undefined && target !== "active" && target !== "rebuild") {
        return yield* Effect.fail(new InvalidInput({ reason: "deploy_steps apply to the active and rebuild targets only." }))
      }
      const action = yield* provisionAction(node, target, options.preserveEphemeral ?? false, options.configDrive, options.cleanSteps, options.deploySteps, options.disableRamdisk === true, options.rescuePassword)
      yield* run(node.nodeId, { type: "Request", actionId: ctx.correlationId, action }, ctx)
    })

  const powerRequests = {
    "power on": "PowerOnRequested", "power off": "PowerOffRequested",
    rebooting: "RebootRequested", "soft power off": "SoftPowerOffRequested",
  } as const

  const power = (ref: string, target: PowerTarget, actor: string) =>
    Effect.gen(function* () {
      const node = yield* resolve(ref)
      const ctx = yield* context(actor)
      yield* run(node.nodeId, { type: "Request", actionId: ctx.correlationId, action: { kind: "power", request: powerRequests[target] } }, ctx)
        .pipe(asConflict)
    })

  return { provision, power } satisfies Partial<NodeService["Service"]>
}
