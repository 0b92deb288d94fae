// The ramdisk's side: its call-back, judged by the domain (refusals recorded without flooding),
// the look-up by MAC a booting ramdisk makes, and its heartbeat. Callers are unauthenticated, so
// a node that waits for no ramdisk answers exactly as a node that does not exist: nothing tells a
// caller which names, MACs or UUIDs are enrolled.
import * as Effect from "effect/Effect"
import { judgeCallback, waitStates, type NodeState } from "../../domain/index.ts"
import { makeRefusalWindows } from "../callback-refusals.ts"
import { NodeNotFound, Refused, type DeployCallback, type NodeService } from "../node-service.ts"
import type { NodeCore } from "./core.ts"

export const ramdiskCalls = (core: NodeCore, refusalWindowMs: number) =>
  Effect.gen(function* () {
    const { fleet, secrets, context, run, resolve, view } = core
    // Refusals are counted per node and window; the window's count is recorded as it closes.
    const services = yield* Effect.context<never>()
    const refusals = makeRefusalWindows(
      refusalWindowMs,
      (nodeId, summary) => Effect.ignore(Effect.flatMap(context("ramdisk"), (ctx) => run(nodeId, { type: "RejectCallback", ...summary }, ctx))),
      Effect.runForkWith(services),
    )
    yield* Effect.addFinalizer(() => refusals.close)

    /**
     * The ramdisk's call-back, for a deploy (wait call-back) or a cleaning (clean wait): the key must
     * be the running operation's, used once; a refusal is recorded and leaves the node as it was.
     */
    const passDeployInfo = (ref: string, cb: DeployCallback) =>
      Effect.gen(function* () {
        const node = yield* resolve(ref)
        const ctx = yield* context("ramdisk", node.operation?.id)
        const refuse = (reason: string) => Effect.fail(new Refused({
          error: { _tag: "DomainError", code: "CallbackRefused", nodeId: node.nodeId, action: "pass_deploy_info", state: node.provisionState, message: reason },
        }))
        const source = cb.source ?? "unknown"
        const reject = (reason: string) =>
          refusals.note(node.nodeId, reason, source)
            ? run(node.nodeId, { type: "RejectCallback", reason, count: 1, sources: [source] }, ctx).pipe(Effect.andThen(refuse(reason)))
            : refuse(reason)
        const verdict = judgeCallback(node, {
          keyDigest: yield* secrets.digest(cb.key),
          error: cb.error, address: cb.address, port: cb.port, iqn: cb.iqn, lun: cb.lun,
          ...(cb.chapUser !== undefined && cb.chapSecret !== undefined
            ? { chap: { user: cb.chapUser, sealedSecret: yield* secrets.seal(cb.chapSecret) } }
            : {}),
        })
        switch (verdict.kind) {
          // Nothing is recorded for a node that waits for no ramdisk: anyone can post, nobody is misled.
          case "ignored": return yield* Effect.fail(new NodeNotFound({ ref }))
          case "rejected": return yield* reject(verdict.reason)
          case "accepted": yield* run(node.nodeId, verdict.command, ctx)
        }
      })

    const waiting = (n: NodeState) => !n.deleted && waitStates.includes(n.provisionState)
    const lookupByMac: NodeService["Service"]["lookupByMac"] = (macs) =>
      Effect.gen(function* () {
        for (const mac of macs) {
          const n = fleet.findByMac(mac)
          if (n !== undefined && waiting(n)) return view(n)
        }
        return yield* Effect.fail(new NodeNotFound({ ref: `with MAC ${macs.join(", ")}` }))
      })
    const heartbeat: NodeService["Service"]["heartbeat"] = (ref) =>
      Effect.flatMap(Effect.mapError(resolve(ref), (e) => (e instanceof NodeNotFound ? new NodeNotFound({ ref }) : e)), (n) =>
        waiting(n) ? Effect.void : Effect.fail(new NodeNotFound({ ref })))
    return { passDeployInfo, lookupByMac, heartbeat } satisfies Partial<NodeService["Service"]>
  })
