// Inspection rules at the moment an inspection's inventory is taken (ADR 0142): the rules of the
// stream are applied (a pure function, ../../domain/inspection-rules.ts) to the inventory and to
// the node as the inspection will leave it, and what they changed becomes part of the same
// append as the inventory: the InspectionRulesApplied event, which the history shows.
import * as Effect from "effect/Effect"
import type { DriverInfo, EventDataOf, NodeState } from "../../domain/index.ts"
import { applyInspectionRules, type InspectionRule, type RuleNode } from "../../domain/inspection-rules.ts"
import type { Secrets } from "../../ports/index.ts"
import type { Registry } from "../hardware/registry.ts"
import { looksSecret } from "../secret-fields.ts"

export type RulesRecord = EventDataOf<"InspectionRulesApplied">

const MASK = "******"
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
const isSealed = (v: unknown) => typeof v === "object" && v !== null && "$sealed" in v

/**
 * What the rules do to `n` with this inventory, or undefined when there are no rules. `inspected`:
 * the properties the inspection itself sets. Secrets of driver_info are shown to rules masked and
 * only what a rule wrote is written back (sealed where it is a secret).
 */
export const applyRulesToInventory = (
  rules: ReadonlyArray<InspectionRule>, n: NodeState, inventory: Record<string, unknown>, inspected: Record<string, unknown>,
  registry: Registry, secrets: Secrets["Service"], pluginData: Record<string, unknown> = {},
): Effect.Effect<RulesRecord | undefined> =>
  Effect.gen(function* () {
    if (rules.length === 0) return undefined
    const masked = Object.fromEntries(Object.entries(n.driverInfo).map(([k, v]) => [k, isSealed(v) ? MASK : v]))
    const node: RuleNode = {
      uuid: n.nodeId, name: n.name, driver: n.driver, properties: { ...n.properties, ...inspected },
      driverInfo: masked, extra: n.extra, traits: n.traits,
    }
    const outcome = applyInspectionRules(rules, { inventory, pluginData, node })
    const record = { rules: outcome.matched.map((m) => ({ uuid: m.uuid, description: m.description, did: [...m.did] })) }
    if (outcome.kind === "failed") return { ...record, failed: outcome.message }
    const after = outcome.node
    const setProperties = Object.fromEntries(Object.entries(after.properties).filter(([k, v]) => !same(node.properties[k], v)))
    const removedProperties = Object.keys(node.properties).filter((k) => !(k in after.properties))
    let driverInfo: DriverInfo | undefined
    if (!same(masked, after.driverInfo)) {
      const secret = registry.secretFields(n.driver, n.interfaces)
      const next: Record<string, DriverInfo[string]> = {}
      for (const [k, v] of Object.entries(after.driverInfo)) {
        if (same(masked[k], v) && k in n.driverInfo) { next[k] = n.driverInfo[k]!; continue }
        const value = typeof v === "string" || typeof v === "number" || typeof v === "boolean" || v === null ? v : JSON.stringify(v)
        next[k] = typeof value === "string" && (secret.has(k) || looksSecret(k, value)) ? { $sealed: yield* secrets.seal(value) } : value
      }
      driverInfo = next
    }
    return {
      ...record,
      ...(Object.keys(setProperties).length > 0 ? { setProperties } : {}),
      ...(removedProperties.length > 0 ? { removedProperties } : {}),
      ...(driverInfo === undefined ? {} : { driverInfo }),
      ...(same(node.extra, after.extra) ? {} : { extra: { ...after.extra } }),
      ...(same(node.traits, after.traits) ? {} : { traits: [...after.traits] }),
      ...(same(outcome.pluginData, pluginData) ? {} : { pluginData: outcome.pluginData }),
    }
  })
