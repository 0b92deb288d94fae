// NodeService over the ports: commands go through execute() (decide + optimistic append), queries
// read the in-memory Fleet projection, which the command path keeps current for read-your-writes.
import { Clock, Effect } from "effect"
import * as E from "fp-ts/lib/Either.js"
import {
  judgeCallback, interfaceSlots, type DriverInfo, type NodeCommand, type NodeInterfaces, type NodeState, type Uuid, parseUuid,
} from "../domain/index.ts"
import { EventStore, Ids, Secrets, type StoreUnavailable } from "../ports/index.ts"
import { catchUp, execute, type CommandContext } from "./execute.ts"
import {
  Conflict, DriverNotFound, InvalidInput, NodeNotFound, NodeService, PortNotFound, Refused,
  type AppError, type DeployCallback, type DriverView, type EnrollInput, type NodeChanges, type PowerTarget, type ProvisionTarget,
} from "./node-service.ts"
import { historyFor, stateAtFor } from "./audit.ts"
import { makeRefusalWindows } from "./callback-refusals.ts"
import { fleetAt } from "./fleet-at.ts"
import { historyMatcher } from "./history-filter.ts"
import { toNodeView, portViews, type Progress } from "./projections/node-view.ts"
import type { Fleet } from "./projections/fleet.ts"
import { looksSecret, MASK } from "./secret-fields.ts"
import { deploySpecFor } from "./deploy-spec.ts"
import { mintRamdiskKey } from "./ramdisk-key.ts"
import type { Registry } from "./hardware/registry.ts"

/** What the service needs from the conductor: a nudge when a node has work, and live write progress. */
export interface ConductorHandle {
  readonly kick: (nodeId: string) => void
  readonly progressOf: (nodeId: string) => Progress
}

/** Refusals that mean "someone else holds it" rather than "invalid": the API answers 409 for those. */
const asConflict = <A, E, R>(eff: Effect.Effect<A, E, R>): Effect.Effect<A, E | Conflict, R> =>
  Effect.mapError(eff, (e) =>
    e instanceof Refused && (e.error.code === "Conflict" || e.error.code === "AlreadyExists")
      ? new Conflict({ reason: e.error.message })
      : e)

export const makeNodeService = (fleet: Fleet, conductor: ConductorHandle, registry: Registry, refusalWindowMs = 60_000) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const ids = yield* Ids
    const secrets = yield* Secrets
    // Names and MACs are unique across nodes. A claim is held from the check until the write that
    // uses it has landed, so two requests for one name cannot both pass, while unrelated writes
    // (and their fsyncs) still go in parallel.
    const claims = new Set<string>()
    const claiming = <A, E2, R>(keys: ReadonlyArray<string>, taken: (key: string) => string | null, work: Effect.Effect<A, E2, R>) =>
      Effect.suspend((): Effect.Effect<A, E2 | Conflict, R> => {
        for (const key of keys) {
          const reason = claims.has(key) ? `${key} is being claimed by another request.` : taken(key)
          if (reason !== null) return Effect.fail(new Conflict({ reason }))
        }
        for (const key of keys) claims.add(key)
        return Effect.ensuring(work, Effect.sync(() => { for (const key of keys) claims.delete(key) }))
      })
    const nameClaim = (name: string | null | undefined) => (name == null ? [] : [`name:${name}`])
    const nameTaken = (self: string | null) => (key: string) => {
      const holder = fleet.findByName(key.slice(5))
      return holder !== undefined && holder.nodeId !== self ? `A node with name ${key.slice(5)} already exists.` : null
    }
    const withStore = <A, E2>(eff: Effect.Effect<A, E2, EventStore>) => Effect.provideService(eff, EventStore, store)

    const context = (actor: string, correlationId?: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        return {
          actor,
          correlationId: correlationId ?? (yield* ids.uuid),
          causationId: null,
          occurredAt: new Date(now).toISOString(),
        } satisfies CommandContext
      })

    const run = (nodeId: string, command: NodeCommand, ctx: CommandContext) =>
      withStore(execute(fleet, nodeId, command, ctx)).pipe(
        Effect.tap((r) => Effect.sync(() => r.events.length > 0 && conductor.kick(nodeId))),
      )

    /** Finds a node by UUID or name, catching its state up with the log first. */
    /** A node by UUID or name, its state caught up with the log; a deleted node only when asked for. */
    const resolve = (ref: string, includeDeleted = false): Effect.Effect<NodeState, NodeNotFound | StoreUnavailable> =>
      Effect.gen(function* () {
        const asUuid = parseUuid(ref)
        const id = E.isRight(asUuid) ? asUuid.right : fleet.findByName(ref)?.nodeId
        if (id === undefined) return yield* Effect.fail(new NodeNotFound({ ref }))
        const state = yield* withStore(catchUp(fleet, id))
        if (state === undefined || (state.deleted && !includeDeleted)) return yield* Effect.fail(new NodeNotFound({ ref }))
        return state
      })

    /** A node's interfaces as its hardware type resolves them (older nodes recorded none). */
    const interfacesOf = (n: NodeState): NodeInterfaces => E.getOrElse((): NodeInterfaces => n.interfaces)(registry.choose(n.driver, n.interfaces))
    const view = (n: NodeState) => ({ ...toNodeView(n, conductor.progressOf(n.nodeId)), interfaces: interfacesOf(n) })

    /**
     * Seals what the interfaces declare secret and whatever looks like a credential; a masked value
     * sent back unchanged keeps the secret already sealed.
     */
    const sealDriverInfo = (input: Record<string, string | number | boolean | null>, current: DriverInfo, secretFields: ReadonlySet<string>) =>
      Effect.gen(function* () {
        const out: Record<string, DriverInfo[string]> = {}
        for (const [key, value] of Object.entries(input)) {
          if (value === MASK && current[key] !== undefined) out[key] = current[key]
          else if (typeof value === "string" && (secretFields.has(key) || looksSecret(key, value))) out[key] = { $sealed: yield* secrets.seal(value) }
          else out[key] = value
        }
        return out
      })

    /** The interfaces and driver_info a node will have, checked against its hardware type: or why not. */
    const hardwareFor = (driver: string, chosen: NodeInterfaces, info: Readonly<Record<string, unknown>>) =>
      Effect.gen(function* () {
        const interfaces = registry.choose(driver, chosen)
        if (E.isLeft(interfaces)) return yield* Effect.fail(new InvalidInput({ reason: interfaces.left }))
        const why = registry.checkInfo(driver, interfaces.right, info)
        if (why !== null) return yield* Effect.fail(new InvalidInput({ reason: why }))
        return { interfaces: interfaces.right, secretFields: registry.secretFields(driver, interfaces.right) }
      })

    const enroll = (input: EnrollInput, actor: string) =>
      claiming(nameClaim(input.name), nameTaken(null), Effect.gen(function* () {
        const hw = yield* hardwareFor(input.driver, input.interfaces ?? {}, input.driverInfo)
        const nodeId = input.uuid ?? ((yield* ids.uuid) as Uuid)
        const ctx = yield* context(actor)
        const driverInfo = yield* sealDriverInfo(input.driverInfo, {}, hw.secretFields)
        const r = yield* run(nodeId, {
          type: "Enroll", nodeId, name: input.name, driver: input.driver, driverInfo, interfaces: hw.interfaces,
          automatedClean: input.automatedClean ?? null,
          properties: input.properties, instanceInfo: input.instanceInfo, extra: input.extra,
        }, ctx).pipe(asConflict)
        return view(r.state)
      }))

    const update = (ref: string, changes: NodeChanges, actor: string) =>
      Effect.flatMap(resolve(ref), (node) => claiming(nameClaim(changes.name), nameTaken(node.nodeId), Effect.gen(function* () {
        const { driverInfo, interfaces: asked, ...rest } = changes
        const driver = changes.driver ?? node.driver
        // A new hardware type starts from its own defaults: the old type's interfaces may not fit it.
        const kept: Record<string, string | null> = { ...(driver === node.driver ? node.interfaces : {}), ...asked }
        const chosen = Object.fromEntries(Object.entries(kept).filter(([, v]) => v !== null)) as NodeInterfaces
        const plainInfo = { ...node.driverInfo, ...driverInfo }
        const hw = yield* hardwareFor(driver, chosen, Object.fromEntries(Object.entries(plainInfo).filter(([, v]) => v === null || typeof v !== "object")))
        const sealed = driverInfo === undefined ? {} : { driverInfo: yield* sealDriverInfo(driverInfo, node.driverInfo, hw.secretFields) }
        const interfaces = asked === undefined && driver === node.driver ? {} : { interfaces: hw.interfaces }
        const r = yield* run(node.nodeId, { type: "Update", changes: { ...rest, ...interfaces, ...sealed } }, yield* context(actor))
        return view(r.state)
      })))

    const driverView = (name: string): DriverView | undefined => {
      const type = registry.hardwareType(name)
      if (type === undefined) return undefined
      const interfaces = Object.fromEntries(interfaceSlots.map((slot) => {
        const enabled = registry.supported(name, slot)
        return [slot, { enabled, default: enabled[0] ?? null }]
      })) as DriverView["interfaces"]
      const properties = registry.properties(name).map((p) => ({
        name: p.name, description: p.description, required: p.required === true, secret: p.secret === true, slot: p.slot,
      }))
      return { name: type.name, description: type.description, interfaces, properties }
    }

    const provisionCommand = (node: NodeState, target: ProvisionTarget, preserveEphemeral: boolean) =>
      Effect.gen(function* () {
        let command: NodeCommand
        switch (target) {
          case "active": case "rebuild": {
            const hw = registry.resolve(node)
            if (E.isLeft(hw)) return yield* Effect.fail(new InvalidInput({ reason: hw.left }))
            const imageOptional = hw.right.deploy.style === "instant" || hw.right.deploy.imageOptional
            const spec = deploySpecFor(node, imageOptional, {
              deployId: (yield* ids.uuid) as Uuid,
              ...yield* Effect.provideService(Effect.provideService(mintRamdiskKey, Ids, ids), Secrets, secrets),
              preserveEphemeral,
            })
            if (E.isLeft(spec)) return yield* Effect.fail(new InvalidInput({ reason: spec.left }))
            command = { type: "Deploy", spec: spec.right, rebuild: target === "rebuild" }
            break
          }
          case "deleted": command = { type: "Provision", verb: "undeploy" }; break
          default: command = { type: "Provision", verb: target }
        }
        return command
      })

    /** Provision targets an interface carries out: refused where the node's interface is a "no-*" one. */
    const carriedBy: Partial<Record<ProvisionTarget, "inspect" | "rescue">> = { inspect: "inspect", rescue: "rescue" }

    const provision = (ref: string, target: ProvisionTarget, options: { preserveEphemeral?: boolean }, actor: string) =>
      Effect.gen(function* () {
        const node = yield* resolve(ref)
        const slot = carriedBy[target]
        const chosen = slot === undefined ? undefined : interfacesOf(node)[slot]
        if (chosen !== undefined && chosen.startsWith("no-")) {
          return yield* Effect.fail(new InvalidInput({ reason: `Node ${node.nodeId} can not ${target}: its ${slot}_interface is ${chosen}.` }))
        }
        if (options.preserveEphemeral && target !== "rebuild") {
          return yield* Effect.fail(new InvalidInput({ reason: "preserve_ephemeral applies to rebuild only." }))
        }
        const command = yield* provisionCommand(node, target, options.preserveEphemeral ?? false)
        yield* run(node.nodeId, command, yield* context(actor))
      })

    const powerRequests = {
      "power on": "PowerOnRequested", "power off": "PowerOffRequested",
      rebooting: "RebootRequested", "soft power off": "SoftPowerOffRequested",
    } as const

    const power = (ref: string, target: PowerTarget, actor: string) =>
      Effect.gen(function* () {
        const node = yield* resolve(ref)
        const ctx = yield* context(actor)
        yield* run(node.nodeId, {
          type: "RequestHardware",
          request: { type: powerRequests[target], data: { step: `${ctx.correlationId}:power` } },
        }, ctx).pipe(asConflict)
      })

    /**
     * The ramdisk's call-back, for a deploy (wait call-back) or a cleaning (clean wait): the key must
     * be the running operation's, used once; a refusal is recorded and leaves the node as it was.
     */
    // Refusals are counted per node and window; the window's count is recorded as it closes.
    const services = yield* Effect.context<never>()
    const refusals = makeRefusalWindows(
      refusalWindowMs,
      (nodeId, summary) => Effect.ignore(Effect.flatMap(context("ramdisk"), (ctx) => run(nodeId, { type: "RejectCallback", ...summary }, ctx))),
      Effect.runForkWith(services),
    )
    yield* Effect.addFinalizer(() => refusals.close)

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
          case "ignored": return yield* refuse(verdict.reason)
          case "rejected": return yield* reject(verdict.reason)
          case "accepted": yield* run(node.nodeId, verdict.command, ctx)
        }
      })

    const service: NodeService["Service"] = {
      enroll,
      get: (ref) => Effect.map(resolve(ref), view),
      list: (filter, page) =>
        filter.driver !== undefined && registry.hardwareType(filter.driver) === undefined
          ? Effect.fail(new InvalidInput({ reason: `Could not find the following driver(s) or hardware type(s): ${filter.driver}.` }))
          : Effect.sync(() => {
          const all = fleet.list().filter((n) =>
            (filter.provisionState === undefined || n.provisionState === filter.provisionState) &&
            (filter.maintenance === undefined || n.maintenance === filter.maintenance) &&
            (filter.driver === undefined || n.driver === filter.driver) &&
            (filter.associated === undefined || (view(n).instanceUuid !== null) === filter.associated))
          const start = page.marker === undefined ? 0 : all.findIndex((n) => n.nodeId === page.marker) + 1
          return all.slice(start, start + page.limit).map(view)
        }),
      update,
      remove: (ref, actor) =>
        Effect.gen(function* () {
          const node = yield* resolve(ref)
          yield* run(node.nodeId, { type: "Delete" }, yield* context(actor)).pipe(asConflict)
        }),
      setMaintenance: (ref, on, reason, actor) =>
        Effect.gen(function* () {
          const node = yield* resolve(ref)
          yield* run(node.nodeId, { type: "SetMaintenance", on, reason }, yield* context(actor))
        }),
      provision,
      power,
      passDeployInfo,
      // A deleted node's history stays readable (by UUID): auditors need it most then.
      history: (ref, page) =>
        Effect.gen(function* () {
          const node = yield* resolve(ref, true)
          const entries = yield* withStore(historyFor(node.nodeId))
          const wanted = historyMatcher(page.filter)
          return entries.filter((e) => e.revision > (page.afterRevision ?? -1) && wanted(e)).slice(0, page.limit)
        }),
      stateAt: (ref, at) => Effect.flatMap(resolve(ref, true), (node) => withStore(stateAtFor(node.nodeId, at))),
      fleetAt: (at) => withStore(fleetAt(at)),
      addPort: ({ nodeRef, mac }, actor) =>
        claiming([mac], (key) => (fleet.findByMac(key) === undefined ? null : `A port with MAC address ${key} already exists.`), Effect.gen(function* () {
          const node = yield* resolve(nodeRef)
          const portId = (yield* ids.uuid) as Uuid
          const r = yield* run(node.nodeId, { type: "AddPort", portId, mac }, yield* context(actor))
          return portViews(r.state).find((p) => p.uuid === portId)!
        })),
      getPort: (uuid) =>
        Effect.gen(function* () {
          const found = fleet.list().flatMap(portViews).find((p) => p.uuid === uuid)
          return found ?? (yield* Effect.fail(new PortNotFound({ ref: uuid })))
        }),
      listPorts: (filter, page) =>
        Effect.gen(function* () {
          const nodes = filter.nodeRef === undefined ? fleet.list() : [yield* resolve(filter.nodeRef)]
          const ports = nodes.flatMap(portViews)
            .filter((p) => filter.address === undefined || p.address === filter.address)
            .sort((a, b) => (a.uuid < b.uuid ? -1 : 1))
          const start = page.marker === undefined ? 0 : ports.findIndex((p) => p.uuid === page.marker) + 1
          return ports.slice(start, start + page.limit)
        }),
      removePort: (uuid, actor) =>
        Effect.gen(function* () {
          const owner = fleet.list().find((n) => n.ports.some((p) => p.portId === uuid))
          if (owner === undefined) return yield* Effect.fail(new PortNotFound({ ref: uuid }))
          yield* run(owner.nodeId, { type: "RemovePort", portId: uuid as Uuid }, yield* context(actor))
        }),
      drivers: () => Effect.succeed(registry.hardwareTypes.map((t) => driverView(t.name)!)),
      driver: (name) => {
        const found = driverView(name)
        return found === undefined ? Effect.fail(new DriverNotFound({ name })) : Effect.succeed(found)
      },
      validate: (ref) => Effect.map(resolve(ref), registry.validate),
      lookupByMac: (macs) =>
        Effect.gen(function* () {
          for (const mac of macs) {
            const n = fleet.findByMac(mac)
            if (n !== undefined) return view(n)
          }
          return yield* Effect.fail(new NodeNotFound({ ref: `with MAC ${macs.join(", ")}` }))
        }),
    }
    return service satisfies { [K in keyof NodeService["Service"]]: (...args: never[]) => Effect.Effect<unknown, AppError> }
  })
