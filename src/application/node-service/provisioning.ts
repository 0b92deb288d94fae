// Provision and power requests: what the node should go through next, recorded for the conductor.
import { Effect } from "effect"
import * as E from "fp-ts/lib/Either.js"
import type { CleanStep, ConfigDriveRef, NodeState, QueuedAction, Uuid } from "../../domain/index.ts"
import { checkCleanSteps } from "../cleaning/steps-offered.ts"
import { Ids, Secrets } from "../../ports/index.ts"
import { deploySpecFor } from "../deploy-spec.ts"
import { InvalidInput, type NodeService, type PowerTarget, type ProvisionOptions, type ProvisionTarget } from "../node-service.ts"
import { acceptConfigDrive, type ConfigDriveInput } from "../config-drive.ts"
import { mintRamdiskKey } from "../ramdisk-key.ts"
import { hashRescuePassword, rescuePasswordProblem } from "../rescue/password.ts"
import { asConflict, type NodeCore } from "./core.ts"

export const provisioning = (core: NodeCore) => {
  const { registry, ids, secrets, context, run, resolve } = core
  /** What a provision target asks of the node, as it is carried out now or queued (abort is neither). */
  const provisionAction = (
    node: NodeState, target: Exclude<ProvisionTarget, "abort">, preserveEphemeral: boolean,
    configDrive: ConfigDriveInput | undefined, cleanSteps: ReadonlyArray<CleanStep> | undefined, rescuePassword: string | undefined,
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
          action = { kind: "deploy", spec: { ...spec.right, ...drive }, rebuild: target === "rebuild" }
          break
        }
        case "deleted": action = { kind: "provision", verb: "undeploy" }; break
        case "clean": {
          if (cleanSteps === undefined) { action = { kind: "provision", verb: "clean" }; break }
          const hw = registry.resolve(node)
          if (E.isLeft(hw)) return yield* Effect.fail(new InvalidInput({ reason: hw.left }))
          const checked = checkCleanSteps(hw.right, cleanSteps)
          if (E.isLeft(checked)) return yield* Effect.fail(new InvalidInput({ reason: checked.left }))
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
      const action = yield* provisionAction(node, target, options.preserveEphemeral ?? false, options.configDrive, options.cleanSteps, options.rescuePassword)
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
