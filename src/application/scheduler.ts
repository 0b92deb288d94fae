// Which nodes an allocation may take (Ironic's allocation matching, plus a flavor's minimum
// properties as Nova's baremetal scheduler matched them): available, not in maintenance, not
// retired, not protected, without fault or instance; of the resource class; with every trait;
// among the candidates if any are named; the owner's or lessee's when an owner is given.
import type { AllocationRecord, NodeState } from "../domain/index.ts"
import { instanceUuidOf } from "./projections/fleet.ts"

/** The flavor's properties a node must have at least (cpu_arch exactly). */
export const flavorKeys = ["cpus", "memory_mb", "local_gb", "cpu_arch"] as const

const numberOf = (v: unknown): number | undefined => {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v
  return typeof n === "number" && Number.isFinite(n) ? n : undefined
}

/** Why the node does not match the request's resource class, traits, owner and properties, or null. */
export const mismatch = (n: NodeState, a: AllocationRecord): string | null => {
  if (a.resourceClass !== null && n.resourceClass !== a.resourceClass) return `resource class ${n.resourceClass ?? "none"}`
  const missing = a.traits.filter((t) => !n.traits.includes(t))
  if (missing.length > 0) return `no trait ${missing.join(", ")}`
  if (a.candidateNodes.length > 0 && !a.candidateNodes.includes(n.nodeId) && (n.name === null || !a.candidateNodes.includes(n.name))) return "not a candidate"
  if (a.owner !== null && n.owner !== a.owner && n.lessee !== a.owner) return `owned by ${n.owner ?? "nobody"}`
  for (const key of flavorKeys) {
    const asked = a.properties[key]
    if (asked === undefined || asked === null) continue
    const has = n.properties[key]
    if (key === "cpu_arch") {
      if (has !== asked) return `cpu_arch ${String(has ?? "unknown")}`
    } else {
      const want = numberOf(asked)
      const got = numberOf(has)
      if (want !== undefined && (got === undefined || got < want)) return `${key} ${String(has ?? "unknown")} < ${want}`
    }
  }
  return null
}

/** Nodes free for a new allocation (protected and faulted nodes are never available ones). */
export const free = (n: NodeState): boolean =>
  !n.deleted && n.provisionState === "available" && !n.maintenance && !n.retired && !n.protected &&
  instanceUuidOf(n) === null && n.allocation === null

/**
 * The matching nodes in random order (Ironic shuffles too, so concurrent requests spread over the
 * fleet instead of all racing for the first node), looked at as the caller asks for the next: an
 * allocation the first match satisfies reads one node, not the whole pool of available ones.
 */
export function* candidates(ids: Iterable<string>, stateOf: (id: string) => NodeState | undefined, a: AllocationRecord, random: () => number = Math.random): Generator<NodeState, void, undefined> {
  const order = [...ids]
  for (let i = 0; i < order.length; i++) {
    const j = i + Math.floor(random() * (order.length - i))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
    const n = stateOf(order[i]!)
    if (n !== undefined && free(n) && mismatch(n, a) === null) yield n
  }
}
