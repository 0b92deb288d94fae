// The read model of the whole fleet: every node's current state, plus the indexes queries need
// (name -> node, instance -> node, a node's parts -> node, ADR 0167) and counts by provision state.
// It is a fold of the log and nothing more: rebuilt from scratch it equals the live one.
import { evolve, evolveInPlace, initialState, type NodeState, type ProvisionState, type RecordedNodeEvent, type Uuid } from "../../domain/index.ts"
import { compactNode, expandNode } from "./fleet-snapshot.ts"
import { IdOrder } from "./id-order.ts"

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
  /** `kind:value` of a node's parts (partKeysOf) -> the node: the parts' APIs find one without a walk. */
  private readonly byPart = new Map<string, string>()
  /** Live nodes holding an allocation. */
  private readonly allocatedIds = new Set<string>()
  private readonly byInstance = new Map<string, string>()
  private readonly counts = new Map<ProvisionState, number>()
  /** Live nodes by power state ("None" when unknown) and in maintenance: /metrics reads them per scrape. */
  private readonly powerCounts = new Map<string, number>()
  private inMaintenance = 0
  private readonly byState = new Map<ProvisionState, Set<string>>()
  private readonly watchers = new Set<(node: NodeState) => void>()
  /** Every node id the fleet holds (deleted ones too: nodes never leave `nodes`), in uuid order. */
  private readonly order = new IdOrder()
  /** Ids of nodes a bulk load added (a restore, a start-up catch-up): ordered at once at its end. */
  private unordered: Array<string> = []
  /** Live nodes' port uuids in order, kept until a port is added, removed or its node deleted. */
  private sortedPortIds: Array<string> | null = null
  /** Moves whenever a live node's ports change (added, removed, or its node deleted). */
  private portsMoved = 0

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
    const after = evolve(before ?? initialState(ownCopy(nodeId) as Uuid), recorded.event, recorded.meta)
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
    if (before !== undefined) this.unindex(before, true)
    const after = evolve(before ?? initialState(ownCopy(nodeId) as Uuid), recorded.event, recorded.meta)
    if (before === undefined) this.unordered.push(after.nodeId)
    own.add(after)
    this.nodes.set(after.nodeId, after)
    return true
  }

  /** Ends an unshared catch-up: its states enter the indexes, and are never written again. */
  endUnshared(own: Set<NodeState>): void {
    for (const n of own) this.index(n, true)
    this.orderUnordered()
    if (own.size > 0) { this.sortedPortIds = null; this.portsMoved++ }
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
    return this.findByPart("mac", mac)
  }

  /** The live node holding a part: a port by uuid or MAC, a port group by uuid, name or MAC, ... */
  findByPart(kind: PartKind, value: string): NodeState | undefined {
    const id = this.byPart.get(`${kind}:${value}`)
    return id === undefined ? undefined : this.get(id)
  }

  /** Live nodes holding an allocation. */
  *allocated(): Iterable<NodeState> {
    for (const id of this.allocatedIds) yield this.nodes.get(id)!
  }

  /** The live nodes holding a part of this kind, found from the parts index (no walk over the fleet). */
  holding(kind: PartKind): Array<NodeState> {
    const ids = new Set<string>()
    for (const [, id] of this.parts(kind)) ids.add(id)
    return [...ids].map((id) => this.get(id)!)
  }

  /** Live nodes' port uuids in order, for paging the ports API. */
  portIds(): ReadonlyArray<string> {
    this.sortedPortIds ??= this.partValues("port")
    return this.sortedPortIds
  }

  /** Live nodes' MACs, sorted: read from the parts index, not from every node's state. */
  macs(): Array<string> {
    return this.partValues("mac")
  }

  /** The values of one kind of part the live nodes hold, sorted. */
  private partValues(kind: PartKind): Array<string> {
    const values: Array<string> = []
    for (const [value] of this.parts(kind)) values.push(value)
    return values.sort()
  }

  /** The parts index's entries of one kind: each part's value and the node that holds it. */
  private *parts(kind: PartKind): Generator<readonly [value: string, nodeId: string]> {
    const prefix = `${kind}:`
    for (const [key, id] of this.byPart) if (key.startsWith(prefix)) yield [key.slice(prefix.length), id]
  }

  /** A number that changes whenever `macs()` may have: a reader asks again only then. */
  portsVersion(): number {
    return this.portsMoved
  }

  findByInstance(instanceUuid: string): NodeState | undefined {
    const id = this.byInstance.get(instanceUuid)
    return id === undefined ? undefined : this.get(id)
  }

  /** Live nodes in one provision state, without a walk over the whole fleet. */
  *inState(state: ProvisionState): Iterable<NodeState> {
    for (const id of this.byState.get(state) ?? []) yield this.nodes.get(id)!
  }

  /**
   * The ids of live nodes in one provision state: the index's own set, which changes as nodes move.
   * A caller that waits between reads takes a copy first (candidates does); it reads only the states it needs.
   */
  idsInState(state: ProvisionState): Iterable<string> {
    return this.byState.get(state) ?? []
  }

  countOf(state: ProvisionState): number {
    return this.counts.get(state) ?? 0
  }

  countsByState(): Readonly<Record<string, number>> {
    return nonZero(this.counts)
  }

  /** Live nodes per power state ("None": not known yet), kept as nodes change: no walk per scrape. */
  countsByPower(): Readonly<Record<string, number>> {
    return nonZero(this.powerCounts)
  }

  maintenanceCount(): number {
    return this.inMaintenance
  }

  /** Live nodes in a stable order (by uuid). */
  list(): Array<NodeState> {
    return this.page(() => true, Infinity)
  }

  /**
   * Up to `limit` live nodes that `matches`, in uuid order, after the node `after` (from the first
   * one when it is no live node): GET /v1/nodes' page, walked only as far as it fills.
   */
  page(matches: (n: NodeState) => boolean, limit: number, after?: string): Array<NodeState> {
    const page: Array<NodeState> = []
    if (limit <= 0) return page
    this.order.walk(after !== undefined && this.get(after) !== undefined ? after : undefined, (id) => {
      const n = this.nodes.get(id)!
      if (!n.deleted && matches(n)) page.push(n)
      return page.length < limit
    })
    return page
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
    for (const node of states) fleet.replace(undefined, node, false)
    fleet.orderUnordered()
    return fleet
  }

  /** `ordered` false: a new node waits in `unordered` for its bulk load's end (fromStates). */
  private replace(before: NodeState | undefined, after: NodeState, ordered = true): void {
    // Most events (hardware steps, leases) touch nothing an index is built on: skip the re-index;
    // a node's parts are re-indexed only when one of them changed (a state change keeps them).
    const parts = before === undefined || before.deleted !== after.deleted || before.ports !== after.ports ||
      before.portgroups !== after.portgroups || before.volumeConnectors !== after.volumeConnectors ||
      before.volumeTargets !== after.volumeTargets || before.allocation !== after.allocation
    const reindex = parts || before.name !== after.name || before.provisionState !== after.provisionState ||
      before.instanceInfo !== after.instanceInfo || before.instanceUuid !== after.instanceUuid
    if (reindex && before) this.unindex(before, parts)
    this.nodes.set(after.nodeId, after)
    if (reindex) this.index(after, parts)
    else if (before !== undefined && (before.powerState !== after.powerState || before.maintenance !== after.maintenance)) {
      this.tally(before, -1)
      this.tally(after, 1)
    }
    if (before === undefined) {
      if (ordered) this.order.add(after.nodeId)
      else this.unordered.push(after.nodeId)
    }
    if (before === undefined || before.ports !== after.ports || before.deleted !== after.deleted) { this.sortedPortIds = null; this.portsMoved++ }
    if (this.watchers.size > 0) for (const w of this.watchers) w(after)
  }

  /** The ids a bulk load added, into the order with one sort (IdOrder.addAll). */
  private orderUnordered(): void {
    this.order.addAll(this.unordered)
    this.unordered = []
  }

  private index(n: NodeState, parts: boolean): void {
    if (n.deleted) return
    if (n.name !== null) this.byName.set(n.name, n.nodeId)
    if (parts) {
      for (const key of partKeysOf(n)) this.byPart.set(key, n.nodeId)
      if (n.allocation !== null) this.allocatedIds.add(n.nodeId)
    }
    const instance = instanceUuidOf(n)
    if (instance !== null) this.byInstance.set(instance, n.nodeId)
    this.counts.set(n.provisionState, (this.counts.get(n.provisionState) ?? 0) + 1)
    const ids = this.byState.get(n.provisionState) ?? this.byState.set(n.provisionState, new Set()).get(n.provisionState)!
    ids.add(n.nodeId)
    this.tally(n, 1)
  }

  /** Counts a live node's power state and maintenance in (1) or out (-1). */
  private tally(n: NodeState, by: 1 | -1): void {
    if (n.deleted) return
    const power = n.powerState ?? "None"
    this.powerCounts.set(power, (this.powerCounts.get(power) ?? 0) + by)
    if (n.maintenance) this.inMaintenance += by
  }

  private unindex(n: NodeState, parts: boolean): void {
    if (n.deleted) return
    if (n.name !== null && this.byName.get(n.name) === n.nodeId) this.byName.delete(n.name)
    if (parts) {
      for (const key of partKeysOf(n)) if (this.byPart.get(key) === n.nodeId) this.byPart.delete(key)
      this.allocatedIds.delete(n.nodeId)
    }
    const instance = instanceUuidOf(n)
    if (instance !== null && this.byInstance.get(instance) === n.nodeId) this.byInstance.delete(instance)
    this.counts.set(n.provisionState, (this.counts.get(n.provisionState) ?? 0) - 1)
    this.byState.get(n.provisionState)?.delete(n.nodeId)
    this.tally(n, -1)
  }
}

/**
 * A node id as a string of its own. Ids taken from a stream's name ("node-<uuid>".slice(5)) are
 * V8 slices that keep the whole name alive: two heap objects per node, for as long as the fleet
 * holds it, where one will do.
 */
const ownCopy = (id: string): string => Buffer.from(id, "utf8").toString("utf8")

/** The counts above zero, by key in order. */
const nonZero = (counts: ReadonlyMap<string, number>): Readonly<Record<string, number>> =>
  Object.fromEntries([...counts].filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b)))

/** The instance a node carries (Nova's instance_uuid), kept in instance_info. */
export const instanceUuidOf = (n: NodeState): string | null => {
  if (n.instanceUuid != null) return n.instanceUuid
  // Logs written before instance_uuid was a field of its own kept it in instance_info.
  const v = n.instanceInfo["instance_uuid"]
  return typeof v === "string" ? v : null
}

/** What a node's parts are found by (Fleet.findByPart): each is unique across the fleet. */
export type PartKind =
  | "mac" | "port" | "portgroup" | "portgroup-name" | "portgroup-address"
  | "volume-connector" | "volume-connector-id" | "volume-target" | "allocation" | "allocation-name"

const partKeysOf = (n: NodeState): Array<string> => {
  const keys: Array<string> = []
  const key = (kind: PartKind, value: string | null) => { if (value !== null) keys.push(`${kind}:${value}`) }
  for (const p of n.ports) { key("mac", p.mac); key("port", p.portId) }
  for (const g of n.portgroups) { key("portgroup", g.portgroupId); key("portgroup-name", g.name); key("portgroup-address", g.address) }
  for (const c of n.volumeConnectors) { key("volume-connector", c.uuid); key("volume-connector-id", `${c.type}:${c.connectorId}`) }
  for (const t of n.volumeTargets) key("volume-target", t.uuid)
  if (n.allocation !== null) { key("allocation", n.allocation.allocationId); key("allocation-name", n.allocation.name) }
  return keys
}
