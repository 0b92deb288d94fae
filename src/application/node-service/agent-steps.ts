// The cleaning ramdisk's side of in-band steps: it asks for its next step and reports each
// outcome, each call carrying the cleaning's key (checked against its digest, in constant time).
// As with pass_deploy_info, a node that is not cleaning, or a wrong key, answers "not found": an
// unauthenticated caller learns nothing.
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { isInBand, sameDigest, type NodeState } from "../../domain/index.ts"
import { NodeNotFound, type AgentStepAnswer, type AgentStepResult, type NodeService } from "../node-service.ts"
import type { NodeCore } from "./core.ts"

export const agentStepCalls = (core: NodeCore) => {
  const { secrets, context, run, resolve } = core

  /** The node, when it is cleaning with a ramdisk whose key is `key`. */
  const cleaningWith = (ref: string, key: string) =>
    Effect.gen(function* () {
      const n = yield* Effect.mapError(resolve(ref), () => new NodeNotFound({ ref }))
      const r = n.cleaningRamdisk
      const cleaning = n.provisionState === "cleaning" || n.provisionState === "clean wait"
      if (!cleaning || r === null || !sameDigest(yield* secrets.digest(key), r.keyHash)) {
        return yield* Effect.fail(new NodeNotFound({ ref }))
      }
      return n
    })

  const running = (n: NodeState) => n.pendingSteps.find(isInBand)

  const nextCleanStep: NodeService["Service"]["nextCleanStep"] = (ref, key) =>
    Effect.gen(function* () {
      const n = yield* cleaningWith(ref, key)
      const p = running(n)
      if (p === undefined || p.request.type !== "CleanStepRequested") return { kind: "wait" } satisfies AgentStepAnswer
      return { kind: "step", step: p.step, name: p.request.data.name, args: p.request.data.args } satisfies AgentStepAnswer
    })

  const cleanStepResult: NodeService["Service"]["cleanStepResult"] = (ref, key, result: AgentStepResult) =>
    Effect.gen(function* () {
      const n = yield* cleaningWith(ref, key)
      const p = running(n)
      if (p === undefined || p.step !== result.step) return yield* Effect.fail(new NodeNotFound({ ref: `${ref} step ${result.step}` }))
      // The duration is the service's own measure, from the request to the report.
      const durationMs = Math.max(0, (yield* Clock.currentTimeMillis) - Date.parse(p.requestedAt))
      const ctx = yield* context("ramdisk", n.operation?.id)
      yield* run(n.nodeId, {
        type: "RecordHardware",
        result: result.error === null
          ? { type: "CleanStepDone", data: { step: p.step, durationMs, summary: result.summary, ...(result.details === undefined ? {} : { details: { ...result.details } }) } }
          : { type: "CleanStepFailed", data: { step: p.step, durationMs, error: `${p.request.type === "CleanStepRequested" ? p.request.data.name : p.step}: ${result.error}` } },
      }, ctx)
    })

  return { nextCleanStep, cleanStepResult } satisfies Partial<NodeService["Service"]>
}
