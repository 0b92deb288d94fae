// Provision and power requests: what the node should go through next, recorded for the conductor.
import { Effect } from "effect"
import * as E from "fp-ts/lib/Either.js"
import type { CleanStep, NodeCommand, NodeState, Uuid } from "../../domain/index.ts"
import { checkCleanSteps } from "../cleaning/steps-offered.ts"
import { Ids, Secrets } from "../../ports/index.ts"
import { deploySpecFor } from "../deploy-spec.ts"
import { InvalidInput, type NodeService, type PowerTarget, type ProvisionTarget } from "../node-service.ts"
import { mintRamdiskKey } from "../ramdisk-key.ts"
import { asConflict, type NodeCore } from "./core.ts"

export const provisioning = (core: NodeCore) => {
  const { registry, ids, secrets, context, run, resolve } = core
  const provisionCommand = (node: NodeState, target: ProvisionTarget, preserveEphemeral: boolean, cleanSteps?: ReadonlyArray<CleanStep>) =>
    Effect.gen(function* () {
      let command: NodeCommand
      switch (target) {
        case "active": case "rebuild": {
          const hw = registry.resolve(node)
          if (E.isLeft(hw)) return yield* Effect.fail(new InvalidInput({ reason: hw.left }))
          const imageOptional = hw.right.deploy.style === "instant" || hw.right.deploy.imageOptional
          const spec = deploySpecFor(node, imageOptional, {
            deployId: (yield* ids.uuid) as Uuid,
            ...yield* Effect.provideService(Effect.provideService(mintRamdiskKey, Ids, ids), Secrets, secrets),
            preserveEphemeral,
          })
          if (E.isLeft(spec)) return yield* Effect.fail(new InvalidInput({ reason: spec.left }))
          command = { type: "Deploy", spec: spec.right, rebuild: target === "rebuild" }
          break
        }
        case "deleted": command = { type: "Provision", verb: "undeploy" }; break
        case "clean": {
          if (cleanSteps === undefined) { command = { type: "Provision", verb: "clean" }; break }
          const hw = registry.resolve(node)
          if (E.isLeft(hw)) return yield* Effect.fail(new InvalidInput({ reason: hw.left }))
          const checked = checkCleanSteps(hw.right, cleanSteps)
          if (E.isLeft(checked)) return yield* Effect.fail(new InvalidInput({ reason: checked.left }))
          command = { type: "Provision", verb: "clean", cleanSteps }
          break
        }
        default: command = { type: "Provision", verb: target }
      }
      return command
    })

  /** Provision targets an interface carries out: refused where the node's interface for it is unsupported ("no-*"). */
  const carriedBy: Partial<Record<ProvisionTarget, "inspect" | "rescue">> = { inspect: "inspect", rescue: "rescue" }

  const provision = (ref: string, target: ProvisionTarget, options: { preserveEphemeral?: boolean; cleanSteps?: ReadonlyArray<CleanStep> }, actor: string) =>
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
      if (options.cleanSteps !== undefined && target !== "clean") {
        return yield* Effect.fail(new InvalidInput({ reason: "clean_steps apply to clean only." }))
      }
      const command = yield* provisionCommand(node, target, options.preserveEphemeral ?? false, options.cleanSteps)
      yield* run(node.nodeId, command, yield* context(actor))
    })

  const powerRequests = {
    "power on": "PowerOnRequested", "power off": "PowerOffRequested",
    rebooting: "RebootRequested", "soft power off": "SoftPowerOffRequested",
  } as const

  const power = (ref: string, target: PowerTarget, actor: string) =>
    Effect.gen(function* () {
      const node = yield* resolve(ref)
      const ctx = yield* context(actor)
      yield* run(node.nodeId, {
        type: "RequestHardware",
        request: { type: powerRequests[target], data: { step: `${ctx.correlationId}:power` } },
      }, ctx).pipe(asConflict)
    })

  return { provision, power } satisfies Partial<NodeService["Service"]>
}
