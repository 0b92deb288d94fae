// The node's ComputerSystem on its BMC: its path (driver_info's, or the BMC's only system) and
// the resources linked from it, read through the client.
import * as Effect from "effect/Effect"
import type { Act } from "../../application/hardware/interfaces.ts"
import type { NodeState } from "../../domain/index.ts"
import type { RedfishClient } from "./client.ts"
import { bmcOf, type RedfishBmc } from "./settings.ts"

export interface NodeSystem {
  readonly bmc: RedfishBmc
  readonly path: string
  readonly system: Record<string, unknown>
}

const idOf = (ref: unknown): string | null => {
  const id = (ref as { "@odata.id"?: unknown } | null)?.["@odata.id"]
  return typeof id === "string" ? id : null
}
export const linkOf = (resource: Record<string, unknown>, ...keys: string[]): string | null => {
  let at: unknown = resource
  for (const k of keys) at = (at as Record<string, unknown> | null)?.[k]
  return idOf(Array.isArray(at) ? at[0] : at)
}

export const systemOf = (client: RedfishClient, n: NodeState): Act<NodeSystem> =>
  Effect.gen(function* () {
    const bmc = yield* bmcOf(n)
    let path = bmc.systemId
    if (path === null) {
      const members = (yield* client.get(bmc, "/redfish/v1/Systems"))["Members"]
      const paths = Array.isArray(members) ? members.map(idOf).filter((p) => p !== null) : []
      if (paths.length !== 1) {
        return yield* Effect.fail({ message: `driver_info.redfish_system_id is needed: the BMC at ${bmc.origin} manages ${paths.length} systems (${paths.slice(0, 5).join(", ")}).` })
      }
      path = paths[0]!
    }
    return { bmc, path, system: yield* client.get(bmc, path) }
  })

/** The target of one of a resource's Actions ("#ComputerSystem.Reset"), or a failure naming it. */
export const actionTarget = (resource: Record<string, unknown>, action: string, at: string): Act<string> => {
  const target = ((resource["Actions"] as Record<string, { target?: unknown }> | undefined)?.[action])?.target
  return typeof target === "string" ? Effect.succeed(target) : Effect.fail({ message: `the BMC offers no ${action} action on ${at}` })
}
