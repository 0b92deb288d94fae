// Rescue's decisions (ADR 0095): the rescue ramdisk's report that its login is up is taken once,
// while the node waits for it in `rescue wait`.
import * as E from "fp-ts/lib/Either.js"
import type { NodeCommand } from "./commands.ts"
import { domainError, type DomainError } from "./errors.ts"
import type { NodeEvent } from "./events.ts"
import type { NodeState } from "./node-state.ts"

export const decideRescueReady = (s: NodeState, c: Extract<NodeCommand, { type: "AcceptRescueReady" }>): E.Either<DomainError, ReadonlyArray<NodeEvent>> => {
  if (s.provisionState !== "rescue wait" || s.cleaningRamdisk === null) {
    return E.left(domainError("CallbackRefused", s.nodeId, "rescue ready", s.provisionState, `Node ${s.nodeId} is not waiting for a rescue ramdisk (state "${s.provisionState}").`))
  }
  return E.right([{ type: "RescueRamdiskReady", data: c.address === undefined ? {} : { address: c.address } }])
}

/** Whether the running rescue's ramdisk has reported its login up. */
export const rescueReady = (s: NodeState): boolean => s.operation?.kind === "rescue" && s.operation.rescueReady === true
