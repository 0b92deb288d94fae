// The read model of the whole fleet: every node's current state, plus the indexes queries need
// (name -> node, MAC -> node, instance -> node) and counts by provision state. It is a fold of the
// log and nothing more: rebuilt from scratch it equals the live one.
import { evolve, evolveInPlace, initialState, type NodeState, type ProvisionState, type RecordedNodeEvent, type Uuid } from "../../domain/index.ts"
import { compactNode, expandNode } from "./fleet-snapshot.ts"

/**
 * Bumped whenever NodeState's shape or the snapshot's encoding changes: a checkpoint of another
 * shape is rebuilt from the log. 6: nodes are compact records (fleet-snapshot.ts). 7: the stored
 * checkpoint is column by column (fleet-checkpoint.ts).
 */
export const fleetSnapshotVersion = 7

export interface FleetSnapshot {
  readonly version: number
  readonly position: number
  /** Each node's state without the fields at their initial value (compactNode). */
  readonly nodes: ReadonlyArray<Readonly<Record<string, unknown>>>
}

export class Fleet {
  /** Global position of the last event folded in through `apply` in log order. */
  position = -1
  readonly nodes = new Map<string, NodeState>()
  private readonly byName = new Map<string, string>()
  private readonly byMac = new Map<string, string>()
  /** Allocation uuid and name -> the node it is bound to (the allocations API, without a walk). */
  private readonly byAllocation = new Map<string, string>()
  private readonly byAllocationName = new Map<string, string>()
  /** Port uuid -> its node: the ports API finds a port without a walk over the fleet. */
  private readonly byPort = new Map<string, string>()
  private readonly byInstance = new Map<string, string>()
  private readonly counts = new Map<ProvisionState, number>()
  private readonly byState = new Map<ProvisionState, Set<string>>()
  private readonly watchers = new Set<(node: NodeState) => void>()
  /** Live node ids in uuid order, kept until a node is added or deleted (list() is called per API page). */
  private sortedIds: Array<string> | null = null
  /** Live nodes' port uuids in order, kept until a port is added, removed or its node deleted. */
  private sortedPortIds: Array<string> | null = null

  /** Calls `listener` with every node state the fleet takes on; returns the way to stop. */
  watch(listener: (node: NodeState) => void): () => void {
    this.watchers.add(listener)
    return () => { this.watchers.delete(listener) }
  }

  /**
   * Folds one event of a node's stream in. Events at or below the node's revision were already
   * applied (the command path applies its own appends at once, the subscription later): skipped.
   * Returns false when the event is not the node's next one (a gap: the caller must catch up).
   */
  apply(nodeId: string, recorded: RecordedNodeEvent, position?: number): boolean {
    if (position !== undefined && position > this.position) this.position = position
    const before = this.nodes.get(nodeId)
    const revision = before?.revision ?? -1
    if (recorded.revision <= revision) return true
    if (recorded.revision !== revision + 1) return false
    const after = evolve(before ?? initialState(nodeId as Uuid), recorded.event, recorded.meta)
    this.replace(before, after)
    return true
  }

  /**
   * apply, for a fleet nothing else holds yet (the catch-up of loadFleet, before the fleet is shared;
   * ADR 0170). A node's first event in the catch-up takes it out of the indexes and folds into a copy
   * that joins `own`; its later events fold into that copy in place, with no index work. `endUnshared`
   * indexes `own` once at the end. States not in `own` (from a checkpoint, or put there by `apply`)
   * are never written. With a watcher, states are handed out: every event is applied as `apply` does.
   */
  applyUnshared(nodeId: string, recorded: RecordedNodeEvent, own: Set<NodeState>, position?: number): boolean {
    if (this.watchers.size > 0) return this.apply(nodeId, recorded, position)
    if (position !== undefined && position > this.position) this.position = position
    const before = this.nodes.get(nodeId)
    const revision = before?.revision ?? -1
    if (recorded.revision <= revision) return true
    if (recorded.revision !== revision + 1) return false
    if (before !== undefined && own.has(before)) {
      evolveInPlace(before, recorded.event, recorded.meta)
      return true
    }
    if (before !== undefined) this.unindex(before)
    const after = evolve(before ?? initialState(nodeId as Uuid), recorded.event, recorded.meta)
    own.add(after)
    this.nodes.set(nodeId, after)
    return true
  }

  /** Ends an unshared catch-up: its states enter the indexes, and are never written again. */
  endUnshared(own: Set<NodeState>): void {
    for (const n of own) this.index(n)
    if (own.size > 0) this.sortedIds = this.sortedPortIds = null
    own.clear()
  }

  get(nodeId: string): NodeState | undefined {
    const n = this.nodes.get(nodeId)
    return n && !n.deleted ? n : undefined
  }

  findByName(name: string): NodeState | undefined {
    const id = this.byName.get(name)
    return id === undefined ? undefined : this.get(id)
  }

  findByMac(mac: string): NodeState | undefined {
    const id = this.byMac.get(mac)
    return id === undefined ? undefined : this.get(id)
  }

  /** The live node an allocation (by uuid, or else by name) is bound to. */
  findByAllocation(ref: string, by: "uuid" | "name"): NodeState | undefined {
    const id = (by === "uuid" ? this.byAllocation : this.byAllocationName).get(ref)
    return id === undefined ? undefined : this.get(id)
  }

  /** Live nodes holding an allocation. */
  *allocated(): Iterable<NodeState> {
    for (const id of this.byAllocation.values()) yield this.nodes.get(id)!
  }

  /** The live node holding the port. */
  findByPort(portId: string): NodeState | undefined {
    const id = this.byPort.get(portId)
    return id === undefined ? undefined : this.get(id)
  }

  /** Live nodes' port uuids in order, for paging the ports API. */
  portIds(): ReadonlyArray<string> {
    this.sortedPortIds ??= [...this.byPort.keys()].sort()
    return this.sortedPortIds
  }

  findByInstance(instanceUuid: string): NodeState | undefined {
    const id = this.byInstance.get(instanceUuid)
    return id === undefined ? undefined : this.get(id)
  }

  /** Live nodes in one provision state, without a walk over the whole fleet. */
  *inState(state: ProvisionState): Iterable<NodeState> {
    for (const id of this.byState.get(state) ?? []) yield this.nodes.get(id)!
  }

  countOf(state: ProvisionState): number {
    return this.counts.get(state) ?? 0
  }

  countsByState(): Readonly<Record<string, number>> {
    return Object.fromEntries([...this.counts].filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b)))
  }

  /** Live nodes in a stable order (by uuid), for paging. */
  list(): Array<NodeState> {
    this.sortedIds ??= [...this.nodes.values()].filter((n) => !n.deleted).map((n) => n.nodeId).sort()
    return this.sortedIds.map((id) => this.nodes.get(id)!)
  }

  snapshot(): FleetSnapshot {
    const nodes = new Array<Record<string, unknown>>(this.nodes.size)
    let i = 0
    for (const n of this.nodes.values()) nodes[i++] = compactNode(n)
    return { version: fleetSnapshotVersion, position: this.position, nodes }
  }

  static restore(snapshot: FleetSnapshot): Fleet {
    return Fleet.fromStates(snapshot.position, snapshot.nodes.map(expandNode))
  }

  /** A fleet of these node states (as a checkpoint held them), at `position` in the log. */
  static fromStates(position: number, states: Iterable<NodeState>): Fleet {
    const fleet = new Fleet()
    fleet.position = position
    for (const node of states) fleet.replace(undefined, node)
    return fleet
  }

  private replace(before: NodeState | undefined, after: NodeState): void {
    // Most events (hardware steps, leases) touch nothing an index is built on: skip the re-index.
    const reindex = before === undefined || before.deleted !== after.deleted || before.name !== after.name ||
      before.ports !== after.ports || before.provisionState !== after.provisionState || before.instanceInfo !== after.instanceInfo ||
      before.instanceUuid !== after.instanceUuid || before.allocation !== after.allocation
    if (reindex && before) this.unindex(before)
    this.nodes.set(after.nodeId, after)
    if (reindex) this.index(after)
    if (before === undefined || before.deleted !== after.deleted) this.sortedIds = null
    if (before === undefined || before.ports !== after.ports || before.deleted !== after.deleted) this.sortedPortIds = null
    if (this.watchers.size > 0) for (const w of this.watchers) w(after)
  }

  private index(n: NodeState): void {
    if (n.deleted) return
    if (n.name !== null) this.byName.set(n.name, n.nodeId)
    for (const p of n.ports) {
      this.byMac.set(p.mac, n.nodeId)
      this.byPort.set(p.portId, n.nodeId)
    }
    const instance = instanceUuidOf(n)
    if (instance !== null) this.byInstance.set(instance, n.nodeId)
    if (n.allocation !== null) {
      this.byAllocation.set(n.allocation.allocationId, n.nodeId)
      if (n.allocation.name !== null) this.byAllocationName.set(n.allocation.name, n.nodeId)
    }
    this.counts.set(n.provisionState, (this.counts.get(n.provisionState) ?? 0) + 1)
    const ids = this.byState.get(n.provisionState) ?? this.byState.set(n.provisionState, new Set()).get(n.provisionState)!
    ids.add(n.nodeId)
  }

  private unindex(n: NodeState): void {
    if (n.deleted) return
    if (n.name !== null && this.byName.get(n.name) === n.nodeId) this.byName.delete(n.name)
    for (const p of n.ports) {
      if (this.byMac.get(p.mac) === n.nodeId) this.byMac.delete(p.mac)
      if (this.byPort.get(p.portId) === n.nodeId) this.byPort.delete(p.portId)
    }
    const instance = instanceUuidOf(n)
    if (instance !== null && this.byInstance.get(instance) === n.nodeId) this.byInstance.delete(instance)
    if (n.allocation !== null) {
      if (this.byAllocation.get(n.allocation.allocationId) === n.nodeId) this.byAllocation.delete(n.allocation.allocationId)
      if (n.allocation.name !== null && this.byAllocationName.get(n.allocation.name) === n.nodeId) this.byAllocationName.delete(n.allocation.name)
    }
    this.counts.set(n.provisionState, (this.counts.get(n.provisionState) ?? 0) - 1)
    this.byState.get(n.provisionState)?.delete(n.nodeId)
  }
}

/** The instance a node carries (Nova's instance_uuid), kept in instance_info. */
export const instanceUuidOf = (n: NodeState): string | null => {
  if (n.instanceUuid != null) return n.instanceUuid
  // Logs written before instance_uuid was a field of its own kept it in instance_info.
  const v = n.instanceInfo["instance_uuid"]
  return typeof v === "string" ? v : null
}
