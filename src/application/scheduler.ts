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
 * The matching nodes, shuffled (Ironic shuffles too, so concurrent requests spread over the
 * fleet instead of all racing for the first node).
 */
export const candidates = (nodes: Iterable<NodeState>, a: AllocationRecord, random: () => number = Math.random): Array<NodeState> => {
  const found = [...nodes].filter((n) => free(n) && mismatch(n, a) === null)
  for (let i = found.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[found[i], found[j]] = [found[j]!, found[i]!]
  }
  return found
}
