// BIOS over Redfish: the Bios resource's Attributes are the current settings; changes go to its
// @Redfish.Settings object and take effect at the next reboot, so both steps ask for one after.
import * as Effect from "effect/Effect"
import type { Act, BiosInterface, BiosSetting } from "../../application/hardware/interfaces.ts"
import type { StepSpec } from "../../application/hardware/steps.ts"
import type { NodeState } from "../../domain/index.ts"
import type { RedfishClient } from "./client.ts"
import { checkInfo, properties, validate } from "./settings.ts"
import { actionTarget, linkOf, systemOf } from "./system.ts"
import { attributeRegistry } from "./attribute-registry.ts"
import type { BiosRegistryEntry } from "../../domain/index.ts"

const biosOf = (client: RedfishClient, n: NodeState) =>
  Effect.gen(function* () {
    const s = yield* systemOf(client, n)
    const path = linkOf(s.system, "Bios")
    if (path === null) return yield* Effect.fail({ message: `the BMC has no Bios resource for ${s.path}` })
    return { ...s, biosPath: path, bios: yield* client.get(s.bmc, path) }
  })

const asText = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === "object" ? JSON.stringify(v) : String(v))

/** The settings list a step is given ([{name, value}, ...]), or why not. */
const requestedSettings = (args: Readonly<Record<string, unknown>>): ReadonlyArray<{ name: string; value: unknown }> | string => {
  const settings = args["settings"]
  if (!Array.isArray(settings) || settings.length === 0) return "bios.apply_configuration needs settings: a non-empty list of {name, value}."
  for (const s of settings) {
    if (typeof s !== "object" || s === null || typeof (s as { name?: unknown }).name !== "string" || !("value" in s)) {
      return `bios.apply_configuration: each setting needs a name and a value, got ${JSON.stringify(s)?.slice(0, 80)}.`
    }
  }
  return settings as ReadonlyArray<{ name: string; value: unknown }>
}

/** Values given as text take the type the BMC reports for the attribute now (Ironic's settings are text). */
const typedLike = (current: unknown, value: unknown): unknown => {
  if (typeof value !== "string") return value
  if (typeof current === "number" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value)
  if (typeof current === "boolean" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true"
  return value
}

export const redfishBios = (client: RedfishClient): BiosInterface => {
  const settings = (n: NodeState): Act<ReadonlyArray<BiosSetting>> =>
    Effect.gen(function* () {
      const b = yield* biosOf(client, n)
      const attributes = (b.bios["Attributes"] ?? {}) as Record<string, unknown>
      // A registry that cannot be read leaves the settings without it, as Ironic keeps them.
      const registry = yield* Effect.orElseSucceed(attributeRegistry(client, b.bmc, b.bios), () => new Map<string, BiosRegistryEntry>())
      return Object.keys(attributes).sort().map((name) => {
        const entry = registry.get(name)
        return { name, value: asText(attributes[name]), ...(entry === undefined ? {} : { registry: entry }) }
      })
    })

  const steps: ReadonlyArray<StepSpec> = [
    {
      name: "apply_configuration", where: "out-of-band", priority: 0, rebootAfter: true,
      description: "Sets BIOS attributes through the BMC's pending settings; they take effect at the reboot that follows.",
      args: { settings: { description: "A list of {name, value}: the BIOS attributes to set.", required: true } },
      run: (n, args) => Effect.gen(function* () {
        const wanted = requestedSettings(args)
        if (typeof wanted === "string") return yield* Effect.fail({ message: wanted })
        const b = yield* biosOf(client, n)
        const current = (b.bios["Attributes"] ?? {}) as Record<string, unknown>
        const unknown = wanted.filter((w) => !(w.name in current)).map((w) => w.name)
        if (unknown.length > 0) return yield* Effect.fail({ message: `the BIOS of ${b.path} has no attribute ${unknown.join(", ")}` })
        const pending = linkOf(b.bios, "@Redfish.Settings", "SettingsObject") ?? b.biosPath
        const attributes = Object.fromEntries(wanted.map((w) => [w.name, typedLike(current[w.name], w.value)]))
        yield* client.send(b.bmc, "PATCH", pending, { Attributes: attributes })
        return { summary: `${wanted.length} BIOS setting(s) pending until the reboot`, details: { settings: wanted.map((w) => ({ name: w.name, value: asText(w.value) })) } }
      }),
    },
    {
      name: "factory_reset", where: "out-of-band", priority: 0, rebootAfter: true, args: {},
      description: "Resets the BIOS to its factory settings (Bios.ResetBios); they take effect at the reboot that follows.",
      run: (n) => Effect.gen(function* () {
        const b = yield* biosOf(client, n)
        yield* client.send(b.bmc, "POST", yield* actionTarget(b.bios, "#Bios.ResetBios", b.biosPath), {})
        return { summary: "BIOS factory settings pending until the reboot" }
      }),
    },
  ]

  return {
    slot: "bios", name: "redfish", description: "Redfish: the Bios resource and its pending settings.",
    properties, checkInfo, validate, settings, steps,
  }
}
