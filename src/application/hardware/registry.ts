// The hardware types and interfaces a service runs: what vendors registered, less what the
// operator did not enable (Ironic's enabled_hardware_types / enabled_*_interfaces). Everything the
// core asks about a node's hardware goes through here: its interfaces, their settings, validation.
import * as E from "fp-ts/lib/Either.js"
import { interfaceSlots, type InterfaceSlot, type NodeInterfaces, type NodeState } from "../../domain/index.ts"
import type { HardwareType, Vendor } from "./hardware-type.ts"
import type { AnyInterface, InterfaceOf, NodeHardware, PropertySpec } from "./interfaces.ts"

export interface EnabledHardware {
  /** Hardware types nodes may use; absent: every registered one. */
  readonly hardwareTypes?: ReadonlyArray<string>
  /** Per slot, the interfaces nodes may use; absent: every registered one. */
  readonly interfaces?: Partial<Record<InterfaceSlot, ReadonlyArray<string>>>
}

export interface SlotCheck { readonly result: boolean | null; readonly reason: string | null }

export interface Registry {
  readonly hardwareTypes: ReadonlyArray<HardwareType>
  readonly hardwareType: (name: string) => HardwareType | undefined
  /** The enabled interfaces of a slot a hardware type supports, the default first. */
  readonly supported: (driver: string, slot: InterfaceSlot) => ReadonlyArray<string>
  /** Every slot's interface for a node of `driver` that asks for `chosen`, or why not. */
  readonly choose: (driver: string, chosen: NodeInterfaces) => E.Either<string, Required<NodeInterfaces>>
  readonly resolve: (node: NodeState) => E.Either<string, NodeHardware>
  /** Properties of a hardware type's default interfaces (Ironic's driver properties). */
  readonly properties: (driver: string) => ReadonlyArray<PropertySpec & { readonly slot: InterfaceSlot }>
  readonly secretFields: (driver: string, chosen: NodeInterfaces) => ReadonlySet<string>
  /** Why present driver_info values cannot work with these interfaces, or null. */
  readonly checkInfo: (driver: string, chosen: NodeInterfaces, info: Readonly<Record<string, unknown>>) => string | null
  /** Per slot, whether the node has what its interface needs (GET /v1/nodes/{id}/validate). */
  readonly validate: (node: NodeState) => Record<InterfaceSlot, SlotCheck>
}

export const makeRegistry = (vendors: ReadonlyArray<Vendor>, enabled: EnabledHardware = {}): Registry => {
  const bySlot = new Map<InterfaceSlot, Map<string, AnyInterface>>(interfaceSlots.map((s) => [s, new Map()]))
  for (const i of vendors.flatMap((v) => v.interfaces)) {
    const slot = bySlot.get(i.slot)!
    if (slot.has(i.name)) throw new Error(`two ${i.slot} interfaces are named "${i.name}"`)
    slot.set(i.name, i)
  }
  const types = new Map<string, HardwareType>()
  for (const t of vendors.flatMap((v) => v.hardwareTypes)) {
    if (types.has(t.name)) throw new Error(`two hardware types are named "${t.name}"`)
    for (const slot of interfaceSlots) {
      const unknown = t.interfaces[slot].filter((n) => !bySlot.get(slot)!.has(n))
      if (unknown.length > 0) throw new Error(`hardware type ${t.name}: no ${slot} interface named ${unknown.join(", ")} is registered`)
    }
    if (enabled.hardwareTypes === undefined || enabled.hardwareTypes.includes(t.name)) types.set(t.name, t)
  }
  for (const name of enabled.hardwareTypes ?? []) {
    if (!types.has(name)) throw new Error(`enabled hardware type "${name}" is not registered (registered: ${vendors.flatMap((v) => v.hardwareTypes.map((t) => t.name)).join(", ")})`)
  }

  const supported = (driver: string, slot: InterfaceSlot) => {
    const allowed = enabled.interfaces?.[slot]
    return (types.get(driver)?.interfaces[slot] ?? []).filter((n) => allowed === undefined || allowed.includes(n))
  }

  /** One key per driver and choice of interfaces: few distinct ones however many nodes make them. */
  const keyOf = (driver: string, chosen: NodeInterfaces) => {
    let key = driver
    for (const slot of interfaceSlots) key += `|${chosen[slot] ?? ""}`
    return key
  }

  // Every node view asks (core.ts): a valid choice is worked out once per key, not once per view
  // (its filtered lists were ~4 KB of garbage per view built). A refused one is not kept: its key
  // comes from client input, so keeping it would let requests grow the map.
  const valid = new Map<string, E.Right<Required<NodeInterfaces>>>()
  const choose = (driver: string, chosen: NodeInterfaces): E.Either<string, Required<NodeInterfaces>> => {
    const key = keyOf(driver, chosen)
    const kept = valid.get(key)
    if (kept !== undefined) return kept
    const made = chooseAnew(driver, chosen)
    if (E.isRight(made)) valid.set(key, made)
    return made
  }

  const chooseAnew = (driver: string, chosen: NodeInterfaces): E.Either<string, Required<NodeInterfaces>> => {
    if (!types.has(driver)) {
      return E.left(`Could not find the following driver(s) or hardware type(s): ${driver}. Enabled here: ${[...types.keys()].join(", ")}.`)
    }
    const out: Partial<Record<InterfaceSlot, string>> = {}
    for (const slot of interfaceSlots) {
      const names = supported(driver, slot)
      const want = chosen[slot]
      if (want !== undefined && !names.includes(want)) {
        return E.left(`Hardware type ${driver} does not support ${slot}_interface "${want}"; it supports: ${names.join(", ") || "none enabled"}.`)
      }
      const pick = want ?? names[0]
      if (pick === undefined) return E.left(`Hardware type ${driver} has no enabled ${slot} interface.`)
      out[slot] = pick
    }
    return E.right(out as Required<NodeInterfaces>)
  }

  const interfacesOf = (driver: string, chosen: NodeInterfaces) =>
    E.map((names: Required<NodeInterfaces>) =>
      Object.fromEntries(interfaceSlots.map((slot) => [slot, bySlot.get(slot)!.get(names[slot])!])) as unknown as NodeHardware)(choose(driver, chosen))

  const declaredBy = (driver: string, chosen: NodeInterfaces) => {
    const hw = interfacesOf(driver, chosen)
    return E.isLeft(hw) ? [] : interfaceSlots.map((slot) => hw.right[slot] as InterfaceOf<typeof slot>)
  }

  const resolved = new Map<string, ReturnType<typeof interfacesOf>>()

  return {
    hardwareTypes: [...types.values()],
    hardwareType: (name) => types.get(name),
    supported,
    choose,
    resolve: (node) => {
      // Asked for at every step the conductor plans: resolved once per driver and choice of
      // interfaces, shared by every node that makes the same choice (no entry per node).
      const chosen = node.interfaces ?? {}
      const key = keyOf(node.driver, chosen)
      let hw = resolved.get(key)
      if (hw === undefined) resolved.set(key, hw = interfacesOf(node.driver, chosen))
      return hw
    },
    // Interfaces of one vendor may share settings (ipmitool's power and management): each once, with its first slot.
    properties: (driver) => {
      const seen = new Set<string>()
      return declaredBy(driver, {}).flatMap((i) => i.properties.filter((p) => !seen.has(p.name) && seen.add(p.name)).map((p) => ({ ...p, slot: i.slot })))
    },
    secretFields: (driver, chosen) =>
      new Set(declaredBy(driver, chosen).flatMap((i) => i.properties.filter((p) => p.secret).map((p) => p.name))),
    checkInfo: (driver, chosen, info) => {
      for (const i of declaredBy(driver, chosen)) {
        const why = i.checkInfo?.(info) ?? null
        if (why !== null) return why
      }
      return null
    },
    validate: (node) => {
      const hw = interfacesOf(node.driver, node.interfaces)
      const checks = {} as Record<InterfaceSlot, SlotCheck>
      for (const slot of interfaceSlots) {
        if (E.isLeft(hw)) { checks[slot] = { result: false, reason: hw.left }; continue }
        const i = hw.right[slot] as InterfaceOf<typeof slot>
        const why = i.validate?.(node) ?? null
        checks[slot] = i.unsupported ? { result: null, reason: `not supported (${slot}_interface is ${i.name})` }
          : why === null ? { result: true, reason: null } : { result: false, reason: why }
      }
      return checks
    },
  }
}

