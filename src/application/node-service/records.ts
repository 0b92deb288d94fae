// The node records: enroll, show, list, update (hardware type, interfaces, sealed secrets),
// delete, maintenance; and the hardware types the service offers.
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as E from "fp-ts/lib/Either.js"
import { interfaceSlots, type DriverInfo, type NodeInterfaces, type Uuid } from "../../domain/index.ts"
import {
  DriverNotFound, InvalidInput, type DriverView, type EnrollInput, type NodeChanges, type NodeService,
} from "../node-service.ts"
import { looksSecret, MASK } from "../secret-fields.ts"
import { asConflict, type NodeCore } from "./core.ts"
import { matchesFilter } from "./node-filter.ts"

export const nodeRecords = (core: NodeCore) => {
  const { fleet, registry, ids, secrets, claiming, nameClaim, nameTaken, context, run, resolve, resolveNow, resolveRead, view } = core
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
        ...(input.record === undefined ? {} : { record: input.record }),
        properties: input.properties, instanceInfo: input.instanceInfo, extra: input.extra,
      }, ctx).pipe(asConflict)
      return view(r.state)
    }))

  const update = (ref: string, changes: NodeChanges, actor: string) =>
    Effect.flatMap(resolve(ref), (node) => claiming(nameClaim(changes.name), nameTaken(node.nodeId), Effect.gen(function* () {
      const { driverInfo, interfaces: asked, resetInterfaces, ...rest } = changes
      const driver = changes.driver ?? node.driver
      // As Ironic: a new hardware type keeps the node's interfaces (refused where they do not fit it)
      // unless reset_interfaces asks for the new type's defaults.
      const reset = driver !== node.driver && resetInterfaces === true
      const kept: Record<string, string | null> = { ...(reset ? {} : node.interfaces), ...asked }
      const chosen = Object.fromEntries(Object.entries(kept).filter(([, v]) => v !== null)) as NodeInterfaces
      const plainInfo = { ...node.driverInfo, ...driverInfo }
      const hw = yield* hardwareFor(driver, chosen, Object.fromEntries(Object.entries(plainInfo).filter(([, v]) => v === null || typeof v !== "object"))).pipe(
        Effect.mapError((e) => (driver !== node.driver && !reset && e._tag === "InvalidInput"
          ? new InvalidInput({ reason: `${e.reason} The node keeps its interfaces when its driver changes: name ones the new hardware type supports, or PATCH with ?reset_interfaces=true to take its defaults.` })
          : e)))
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

  const uses = {
    enroll,
    update,
    get: (ref) => {
      // resolveNow asked once: reading the stream is right whenever the returned Effect runs.
      const now = resolveNow(ref)
      return now === undefined ? Effect.map(resolveRead(ref), view) : Exit.map(now, view)
    },
    list: (filter, page) =>
      filter.driver !== undefined && registry.hardwareType(filter.driver) === undefined
        ? Exit.fail(new InvalidInput({ reason: `Could not find the following driver(s) or hardware type(s): ${filter.driver}.` }))
        // One page walked in the fleet's kept UUID order, not the whole fleet sorted per request.
        : Exit.succeed(fleet.page((n) => matchesFilter(n, filter), page.limit, page.marker).map(view)),
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
    drivers: () => Effect.succeed(registry.hardwareTypes.map((t) => driverView(t.name)!)),
    driver: (name) => {
      const found = driverView(name)
      return found === undefined ? Effect.fail(new DriverNotFound({ name })) : Effect.succeed(found)
    },
    validate: (ref) => Effect.map(resolve(ref), registry.validate),
  } satisfies Partial<NodeService["Service"]>
  return uses
}
