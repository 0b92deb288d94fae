// Indicators (API 1.63): read and set through the node's management interface; a management
// interface without indicators (ipmitool) is named in a 400. A state set is recorded in the history.
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import type { NodeState } from "../../domain/index.ts"
import type { IndicatorComponent, IndicatorState, Indicators } from "../hardware/indicators.ts"
import { InvalidInput, type NodeService } from "../node-service.ts"
import { Secrets } from "../../ports/index.ts"
import type { NodeCore } from "./core.ts"

export const nodeIndicators = (core: NodeCore) => {
  const { registry, secrets, context, run, resolve } = core
  const indicatorsOf = (node: NodeState) =>
    Effect.gen(function* () {
      const hw = registry.resolve(node)
      if (E.isLeft(hw)) return yield* Effect.fail(new InvalidInput({ reason: hw.left }))
      const found: Indicators | undefined = hw.right.management.indicators
      if (found === undefined) {
        return yield* Effect.fail(new InvalidInput({ reason: `The management interface ${hw.right.management.name} of node ${node.name ?? node.nodeId} does not support indicators.` }))
      }
      return found
    })
  const onHardware = <A>(node: NodeState, what: string, act: Effect.Effect<A, { readonly message: string }, never>) =>
    Effect.mapError(act, (e) => new InvalidInput({ reason: `Could not ${what} of node ${node.name ?? node.nodeId}: ${e.message}` }))
  const withSecrets = <A, Er>(eff: Effect.Effect<A, Er, Secrets>) => Effect.provideService(eff, Secrets, secrets)
  return {
    indicators: (ref: string) =>
      Effect.gen(function* () {
        const node = yield* resolve(ref)
        return yield* onHardware(node, "list the indicators", withSecrets((yield* indicatorsOf(node)).list(node)))
      }),
    indicatorState: (ref: string, component: IndicatorComponent, name: string) =>
      Effect.gen(function* () {
        const node = yield* resolve(ref)
        return yield* onHardware(node, `read indicator ${name}@${component}`, withSecrets((yield* indicatorsOf(node)).get(node, component, name)))
      }),
    setIndicatorState: (ref: string, component: IndicatorComponent, name: string, state: IndicatorState, actor: string) =>
      Effect.gen(function* () {
        const node = yield* resolve(ref)
        yield* onHardware(node, `set indicator ${name}@${component}`, withSecrets((yield* indicatorsOf(node)).set(node, component, name, state)))
        yield* run(node.nodeId, { type: "RecordIndicator", component, name, state }, yield* context(actor))
      }),
  } satisfies Partial<NodeService["Service"]>
}
