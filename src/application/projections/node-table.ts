// The fleet's node states by id. A node nobody has written for a whole rest period is kept at rest:
// its checkpoint record (compactNode) as one JSON text, beside the few fields the API's filters read
// (ADR 0200). A full collection marks two objects for it instead of its state's fifty fields and the
// objects they hold; at 100,000 idle nodes that marking was most of each collection's work on the
// service's one core, and the read load's slowest replies came during it (ADR 0199).
import type { NodeState } from "../../domain/index.ts"
import { noFields } from "../../domain/shared-values.ts"
import { compactNode, expandNode } from "./fleet-snapshot.ts"

/**
 * What GET /v1/nodes' filters, the kept views (by revision), power sync's walk and the walks over
 * leases read of a node: a state has it, and so has a node at rest.
 */
export type NodeSummary = Pick<NodeState,
  | "nodeId" | "revision" | "lease" | "deleted" | "provisionState" | "powerState" | "maintenance" | "driver" | "resourceClass" | "conductorGroup" | "owner" | "lessee"
  | "fault" | "retired" | "description" | "instanceUuid" | "instanceInfo">

/** The instance a node carries (Nova's instance_uuid), kept in instance_info. */
export const instanceUuidOf = (n: Pick<NodeState, "instanceUuid" | "instanceInfo">): string | null => {
  if (n.instanceUuid != null) return n.instanceUuid
  // Logs written before instance_uuid was a field of its own kept it in instance_info.
  const v = n.instanceInfo["instance_uuid"]
  return typeof v === "string" ? v : null
}

/** A node at rest: its record as text and its summary, each field a value the state shares. */
export class RestingNode implements NodeSummary {
  readonly text: string
  readonly nodeId: NodeState["nodeId"]
  readonly revision: number
  readonly lease: NodeState["lease"]
  readonly deleted: boolean
  readonly provisionState: NodeState["provisionState"]
  readonly powerState: NodeState["powerState"]
  readonly maintenance: boolean
  readonly driver: NodeState["driver"]
  readonly resourceClass: NodeState["resourceClass"]
  readonly conductorGroup: NodeState["conductorGroup"]
  readonly owner: NodeState["owner"]
  readonly lessee: NodeState["lessee"]
  readonly fault: string | null
  readonly retired: NodeState["retired"]
  readonly description: NodeState["description"]
  /** Resolved from instance_info too (instanceUuidOf), so that the summary needs no instance_info. */
  readonly instanceUuid: string | null
  readonly instanceInfo: NodeState["instanceInfo"] = noFields

  constructor(n: NodeState) {
    this.text = JSON.stringify(compactNode(n))
    this.nodeId = n.nodeId
    this.revision = n.revision
    this.lease = n.lease
    this.deleted = n.deleted
    this.provisionState = n.provisionState
    this.powerState = n.powerState
    this.maintenance = n.maintenance
    this.driver = n.driver
    this.resourceClass = n.resourceClass
    this.conductorGroup = n.conductorGroup
    this.owner = n.owner
    this.lessee = n.lessee
    this.fault = n.fault ?? null
    this.retired = n.retired
    this.description = n.description
    this.instanceUuid = instanceUuidOf(n)
  }

  /** The node's state again: equal to the one put at rest, a new object each time. */
  state(): NodeState {
    return expandNode(JSON.parse(this.text) as Record<string, unknown>)
  }
}

/** An entry's state: a node at rest is woken for the caller, and stays at rest in the table. */
export const stateOf = (entry: NodeState | RestingNode): NodeState => (entry instanceof RestingNode ? entry.state() : entry)

/**
 * Node states by id, written with `set`; read with `get` and `values`, which wake nodes at rest.
 * Written nodes are kept in order of the rest period of their last write, so that `rest` finds the
 * ones to put at rest from the front, without a walk over the fleet.
 */
export class NodeTable {
  private readonly entries = new Map<string, NodeState | RestingNode>()
  /** Nodes not at rest, each with the period of its last write, earlier periods first. */
  private readonly written = new Map<string, number>()
  private period = 0

  get size(): number {
    return this.entries.size
  }

  get(nodeId: string): NodeState | undefined {
    const e = this.entries.get(nodeId)
    return e === undefined ? undefined : stateOf(e)
  }

  /** The state, or the node at rest as it is: what the filters read, without waking it. */
  summary(nodeId: string): NodeState | RestingNode | undefined {
    return this.entries.get(nodeId)
  }

  set(nodeId: string, state: NodeState): void {
    this.entries.set(nodeId, state)
    // Kept in order of period only: a node written again in the same period stays where it is.
    const period = this.written.get(nodeId)
    if (period === this.period) return
    if (period !== undefined) this.written.delete(nodeId)
    this.written.set(nodeId, this.period)
  }

  keys(): IterableIterator<string> {
    return this.entries.keys()
  }

  /** Every state, nodes at rest woken one by one as the walk reaches them. Goes on past entries added meanwhile, as a Map's iterator does. */
  *values(): Generator<NodeState, void, undefined> {
    for (const e of this.entries.values()) yield stateOf(e)
  }

  /** Every node's summary (NodeSummary), none woken. */
  summaryValues(): IterableIterator<NodeState | RestingNode> {
    return this.entries.values()
  }

  /** Every entry as it is now (each immutable): a checkpoint reads one consistent fleet from them. */
  now(): Array<NodeState | RestingNode> {
    return [...this.entries.values()]
  }

  /** How many nodes are at rest. */
  get resting(): number {
    return this.entries.size - this.written.size
  }

  /** Begins the next rest period: a node written in none of the last full period may rest. */
  nextPeriod(): void {
    this.period++
  }

  /** Puts at rest up to `max` nodes not written since before the last period began; returns how many. */
  rest(max: number): number {
    let count = 0
    for (const [nodeId, period] of this.written) {
      if (count >= max || period >= this.period - 1) break
      this.written.delete(nodeId)
      this.entries.set(nodeId, new RestingNode(this.entries.get(nodeId) as NodeState))
      count++
    }
    return count
  }
}
