// Port groups, volume connectors and targets: created, shown, listed, changed and deleted through
// their node's stream; names, group MACs and (type, connector_id) are unique across the fleet, as
// Ironic's database makes them. Also the NMI (through the management interface) and the conductors.
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import type { NodeState, PortgroupState, Uuid, VolumeConnectorState, VolumeTargetState } from "../../domain/index.ts"
import { Secrets } from "../../ports/index.ts"
import { InvalidInput, type Page } from "../node-service.ts"
import { ResourceNotFound, type ConductorView, type NodePartsCalls, type PartFilter, type PortgroupView, type VolumeConnectorView, type VolumeTargetView } from "../node-parts.ts"
import type { PartKind } from "../projections/fleet.ts"
import { asConflict, type NodeCore } from "./core.ts"

/** The conductor running in this process, if any. */
export interface SelfConductor {
  readonly name: string
  readonly drivesNodes: boolean
}

const portgroupView = (n: NodeState, g: PortgroupState): PortgroupView => ({
  ...g, uuid: g.portgroupId, nodeUuid: n.nodeId,
  ports: n.ports.filter((p) => p.portgroupId === g.portgroupId).map((p) => p.portId),
})
const connectorView = (n: NodeState, c: VolumeConnectorState): VolumeConnectorView => ({ ...c, nodeUuid: n.nodeId })
const targetView = (n: NodeState, t: VolumeTargetState): VolumeTargetView => ({ ...t, nodeUuid: n.nodeId })

const paged = <A extends { readonly uuid: string }>(items: ReadonlyArray<A>, page: Page): ReadonlyArray<A> => {
  const sorted = [...items].sort((a, b) => (a.uuid < b.uuid ? -1 : 1))
  const start = page.marker === undefined ? 0 : sorted.findIndex((x) => x.uuid === page.marker) + 1
  return sorted.slice(start, start + page.limit)
}

export const nodeParts = (core: NodeCore, self?: SelfConductor): NodePartsCalls => {
  const { fleet, ids, secrets, registry, claiming, context, run, resolve } = core

  /** The filter's node, or every live node holding a part of this kind (from the parts index, not a walk over the fleet). */
  const nodesOf = (filter: PartFilter, kind: PartKind) =>
    (filter.nodeRef === undefined ? Effect.succeed(fleet.holding(kind)) : Effect.map(resolve(filter.nodeRef), (n) => [n]))

  // Parts are found through the fleet's part index (one node, not a walk over the fleet).
  const findGroup = (ref: string) => {
    const byId = fleet.findByPart("portgroup", ref.toLowerCase())
    const n = byId ?? fleet.findByPart("portgroup-name", ref)
    const g = byId !== undefined ? n?.portgroups.find((x) => x.portgroupId === ref.toLowerCase()) : n?.portgroups.find((x) => x.name === ref)
    return n !== undefined && g !== undefined ? Effect.succeed({ node: n, group: g }) : Effect.fail(new ResourceNotFound({ kind: "Port group", ref }))
  }
  const groupClaims = (f: { readonly name?: string | null; readonly address?: string | null }) => [
    ...(f.name == null ? [] : [`portgroup-name:${f.name}`]), ...(f.address == null ? [] : [`portgroup-address:${f.address}`]),
  ]
  const groupTaken = (self: string | null) => (key: string) => {
    const [kind, value] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)]
    const holder = fleet.findByPart(kind === "portgroup-name" ? "portgroup-name" : "portgroup-address", value)?.portgroups
      .find((g) => g.portgroupId !== self && (kind === "portgroup-name" ? g.name === value : g.address === value))
    if (holder === undefined) return null
    return kind === "portgroup-name" ? `A port group with name ${value} already exists.` : `A port group with MAC address ${value} already exists.`
  }

  const findVolume = <S extends { readonly uuid: string }>(kind: "volume-connector" | "volume-target", of: (n: NodeState) => ReadonlyArray<S>, uuid: string) => {
    const n = fleet.findByPart(kind, uuid.toLowerCase())
    const found = n === undefined ? undefined : of(n).find((x) => x.uuid === uuid.toLowerCase())
    return n !== undefined && found !== undefined
      ? Effect.succeed({ node: n, found })
      : Effect.fail(new ResourceNotFound({ kind: kind === "volume-connector" ? "Volume connector" : "Volume target", ref: uuid }))
  }
  const connectorClaim = (type: string, id: string) => [`volume-connector:${type}:${id}`]
  const connectorTaken = (self: string | null) => (key: string) => {
    const clash = fleet.findByPart("volume-connector-id", key.slice("volume-connector:".length))?.volumeConnectors
      .find((c) => c.uuid !== self && `volume-connector:${c.type}:${c.connectorId}` === key)
    return clash === undefined ? null : `A volume connector with type '${clash.type}' and connector ID '${clash.connectorId}' already exists (${clash.uuid}).`
  }
  const newId = (asked: Uuid | undefined) => (asked === undefined ? Effect.map(ids.uuid, (u) => u as Uuid) : Effect.succeed(asked))

  const calls: NodePartsCalls = {
    createPortgroup: ({ nodeRef, uuid, fields }, actor) =>
      claiming(groupClaims(fields), groupTaken(null), Effect.gen(function* () {
        const node = yield* resolve(nodeRef)
        const id = yield* newId(uuid)
        const r = yield* run(node.nodeId, { type: "CreatePortgroup", portgroupId: id, fields }, yield* context(actor)).pipe(asConflict)
        return portgroupView(r.state, r.state.portgroups.find((g) => g.portgroupId === id)!)
      })),
    portgroup: (ref) => Effect.map(findGroup(ref), ({ node, group }) => portgroupView(node, group)),
    portgroups: (filter, page) =>
      Effect.map(nodesOf(filter, "portgroup"), (nodes) => paged(nodes.flatMap((n) => n.portgroups.map((g) => portgroupView(n, g)))
        .filter((g) => filter.address === undefined || g.address === filter.address), page)),
    updatePortgroup: (ref, changes, actor) =>
      Effect.flatMap(findGroup(ref), ({ node, group }) =>
        claiming(groupClaims({ name: changes.name === group.name ? null : changes.name, address: changes.address === group.address ? null : changes.address }), groupTaken(group.portgroupId),
          Effect.gen(function* () {
            const r = yield* run(node.nodeId, { type: "UpdatePortgroup", portgroupId: group.portgroupId, changes }, yield* context(actor)).pipe(asConflict)
            return portgroupView(r.state, r.state.portgroups.find((g) => g.portgroupId === group.portgroupId)!)
          }))),
    deletePortgroup: (ref, actor) =>
      Effect.flatMap(findGroup(ref), ({ node, group }) => Effect.flatMap(context(actor), (ctx) =>
        Effect.asVoid(run(node.nodeId, { type: "DeletePortgroup", portgroupId: group.portgroupId }, ctx).pipe(asConflict)))),

    createVolumeConnector: ({ nodeRef, uuid, fields }, actor) =>
      claiming(connectorClaim(fields.type, fields.connectorId), connectorTaken(null), Effect.gen(function* () {
        const node = yield* resolve(nodeRef)
        const id = yield* newId(uuid)
        const r = yield* run(node.nodeId, { type: "CreateVolumeConnector", uuid: id, fields }, yield* context(actor)).pipe(asConflict)
        return connectorView(r.state, r.state.volumeConnectors.find((c) => c.uuid === id)!)
      })),
    volumeConnector: (uuid) => Effect.map(findVolume("volume-connector", (n) => n.volumeConnectors, uuid), ({ node, found }) => connectorView(node, found)),
    volumeConnectors: (filter, page) => Effect.map(nodesOf(filter, "volume-connector"), (nodes) => paged(nodes.flatMap((n) => n.volumeConnectors.map((c) => connectorView(n, c))), page)),
    updateVolumeConnector: (uuid, changes, actor) =>
      Effect.flatMap(findVolume("volume-connector", (n) => n.volumeConnectors, uuid), ({ node, found }) => {
        const type = changes.type ?? found.type
        const id = changes.connectorId ?? found.connectorId
        const moved = type !== found.type || id !== found.connectorId
        return claiming(moved ? connectorClaim(type, id) : [], connectorTaken(found.uuid), Effect.gen(function* () {
          const r = yield* run(node.nodeId, { type: "UpdateVolumeConnector", uuid: found.uuid, changes }, yield* context(actor)).pipe(asConflict)
          return connectorView(r.state, r.state.volumeConnectors.find((c) => c.uuid === found.uuid)!)
        }))
      }),
    deleteVolumeConnector: (uuid, actor) =>
      Effect.flatMap(findVolume("volume-connector", (n) => n.volumeConnectors, uuid), ({ node, found }) => Effect.flatMap(context(actor), (ctx) =>
        Effect.asVoid(run(node.nodeId, { type: "DeleteVolumeConnector", uuid: found.uuid }, ctx).pipe(asConflict)))),

    createVolumeTarget: ({ nodeRef, uuid, fields }, actor) =>
      Effect.gen(function* () {
        const node = yield* resolve(nodeRef)
        const id = yield* newId(uuid)
        const r = yield* run(node.nodeId, { type: "CreateVolumeTarget", uuid: id, fields }, yield* context(actor)).pipe(asConflict)
        return targetView(r.state, r.state.volumeTargets.find((c) => c.uuid === id)!)
      }),
    volumeTarget: (uuid) => Effect.map(findVolume("volume-target", (n) => n.volumeTargets, uuid), ({ node, found }) => targetView(node, found)),
    volumeTargets: (filter, page) => Effect.map(nodesOf(filter, "volume-target"), (nodes) => paged(nodes.flatMap((n) => n.volumeTargets.map((c) => targetView(n, c))), page)),
    updateVolumeTarget: (uuid, changes, actor) =>
      Effect.flatMap(findVolume("volume-target", (n) => n.volumeTargets, uuid), ({ node, found }) => Effect.gen(function* () {
        const r = yield* run(node.nodeId, { type: "UpdateVolumeTarget", uuid: found.uuid, changes }, yield* context(actor)).pipe(asConflict)
        return targetView(r.state, r.state.volumeTargets.find((c) => c.uuid === found.uuid)!)
      })),
    deleteVolumeTarget: (uuid, actor) =>
      Effect.flatMap(findVolume("volume-target", (n) => n.volumeTargets, uuid), ({ node, found }) => Effect.flatMap(context(actor), (ctx) =>
        Effect.asVoid(run(node.nodeId, { type: "DeleteVolumeTarget", uuid: found.uuid }, ctx).pipe(asConflict)))),

    injectNmi: (ref, actor) =>
      Effect.gen(function* () {
        const node = yield* resolve(ref)
        const hw = registry.resolve(node)
        if (E.isLeft(hw)) return yield* Effect.fail(new InvalidInput({ reason: hw.left }))
        const management = hw.right.management
        if (management.injectNmi === undefined) {
          return yield* Effect.fail(new InvalidInput({ reason: `Node ${node.nodeId}: management interface ${management.name} does not support inject_nmi.` }))
        }
        // One correlation for the request and its outcome, as for every hardware action.
        const ctx = yield* context(actor)
        yield* run(node.nodeId, { type: "RequestNmi", interface: management.name }, ctx)
        const started = yield* Clock.currentTimeMillis
        const outcome = yield* management.injectNmi(node).pipe(Effect.provideService(Secrets, secrets), Effect.result)
        const durationMs = (yield* Clock.currentTimeMillis) - started
        const error = outcome._tag === "Failure" ? outcome.failure.message : null
        yield* run(node.nodeId, { type: "RecordNmi", error, durationMs }, { ...ctx, occurredAt: new Date(started + durationMs).toISOString() })
        if (error !== null) return yield* Effect.fail(new InvalidInput({ reason: `Failed to inject NMI into node ${node.nodeId}: ${error}` }))
      }),

    conductors: () =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const drivers = registry.hardwareTypes.map((t) => t.name)
        const seen = new Map<string, ConductorView>()
        if (self?.drivesNodes) {
          seen.set(self.name, { hostname: self.name, conductorGroup: "", alive: true, drivers, lastSeen: new Date(now).toISOString() })
        }
        // Other conductors are known by the leases they hold in the nodes' streams (ADR 0070).
        for (const n of fleet.list()) {
          const lease = n.lease
          if (lease === null || seen.get(lease.holder)?.alive === true) continue
          seen.set(lease.holder, { hostname: lease.holder, conductorGroup: "", alive: Date.parse(lease.expiresAt) > now, drivers, lastSeen: lease.expiresAt })
        }
        return [...seen.values()].sort((a, b) => (a.hostname < b.hostname ? -1 : 1))
      }),
  }
  return calls
}

