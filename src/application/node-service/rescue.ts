// The rescue ramdisk's calls (ADR 0095), with the rescue's ramdisk key (checked against its digest,
// in constant time). Only a node in `rescue wait` answers; anything else, or a wrong key, is "not
// found", as pass_deploy_info answers, so an unauthenticated caller learns nothing.
import * as Effect from "effect/Effect"
import { sameDigest, type NodeState } from "../../domain/index.ts"
import { NodeNotFound, type NodeService } from "../node-service.ts"
import type { NodeCore } from "./core.ts"

export const rescueCalls = (core: NodeCore) => {
  const { secrets, context, run, resolve } = core

  const waitingWithKey = (ref: string, key: string) =>
    Effect.gen(function* () {
      const n: NodeState = yield* Effect.mapError(resolve(ref), () => new NodeNotFound({ ref }))
      const r = n.cleaningRamdisk
      if (n.provisionState !== "rescue wait" || r === null || key === "" || !sameDigest(yield* secrets.digest(key), r.keyHash)) {
        return yield* Effect.fail(new NodeNotFound({ ref }))
      }
      return n
    })

  const rescuePassword: NodeService["Service"]["rescuePassword"] = (ref, key) =>
    Effect.gen(function* () {
      const n = yield* waitingWithKey(ref, key)
      const hash = n.operation?.rescuePasswordHash
      if (hash === undefined) return yield* Effect.fail(new NodeNotFound({ ref: `${ref} (rescue password)` }))
      return { hash }
    })

  const rescueReady: NodeService["Service"]["rescueReady"] = (ref, key, report) =>
    Effect.gen(function* () {
      const n = yield* waitingWithKey(ref, key)
      const ctx = yield* context("ramdisk", n.operation?.id)
      if (report.error !== undefined && report.error !== null && report.error !== "") {
        yield* run(n.nodeId, { type: "Fail", error: `The rescue ramdisk reported: ${report.error}` }, ctx)
        return
      }
      yield* run(n.nodeId, { type: "AcceptRescueReady", ...(report.address === undefined ? {} : { address: report.address }) }, ctx)
    })

  return { rescuePassword, rescueReady } satisfies Partial<NodeService["Service"]>
}
