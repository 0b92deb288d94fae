// The BIOS attribute registry (Redfish's AttributeRegistry, as Ironic reads it through sushy for
// API 1.74): the Bios resource names its registry; /redfish/v1/Registries holds where it is; its
// RegistryEntries.Attributes say each attribute's type, allowed values, bounds, lengths and flags.
import * as Effect from "effect/Effect"
import type { BiosRegistryEntry } from "../../domain/index.ts"
import type { RedfishClient } from "./client.ts"
import type { RedfishBmc } from "./settings.ts"

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null)
const bool = (v: unknown): boolean | null => (typeof v === "boolean" ? v : null)

const entryOf = (a: Record<string, unknown>): BiosRegistryEntry => ({
  attribute_type: typeof a["Type"] === "string" ? a["Type"] : null,
  allowable_values: Array.isArray(a["Value"])
    ? a["Value"].flatMap((v) => (typeof v === "object" && v !== null && typeof (v as { ValueName?: unknown }).ValueName === "string" ? [(v as { ValueName: string }).ValueName] : []))
    : null,
  lower_bound: num(a["LowerBound"]), upper_bound: num(a["UpperBound"]),
  min_length: num(a["MinLength"]), max_length: num(a["MaxLength"]),
  read_only: bool(a["ReadOnly"]), reset_required: bool(a["ResetRequired"]), unique: bool(a["IsSystemUniqueProperty"]),
})

/** Attribute name -> registry entry; empty when the Bios resource names no registry. */
export const attributeRegistry = (client: RedfishClient, bmc: RedfishBmc, bios: Record<string, unknown>) =>
  Effect.gen(function* () {
    const name = bios["AttributeRegistry"]
    if (typeof name !== "string") return new Map<string, BiosRegistryEntry>()
    const members = (yield* client.get(bmc, "/redfish/v1/Registries"))["Members"]
    const paths = Array.isArray(members) ? members.map((m) => (m as Record<string, unknown>)["@odata.id"]).filter((p): p is string => typeof p === "string") : []
    const file = paths.find((p) => p.endsWith(`/${name}`))
    if (file === undefined) return yield* Effect.fail({ message: `the BMC lists no registry ${name}` })
    const locations = (yield* client.get(bmc, file))["Location"]
    const uri = Array.isArray(locations) ? (locations.find((l) => typeof (l as { Uri?: unknown }).Uri === "string") as { Uri: string } | undefined)?.Uri : undefined
    if (uri === undefined) return yield* Effect.fail({ message: `registry ${name} has no Location` })
    const attributes = ((yield* client.get(bmc, uri))["RegistryEntries"] as { Attributes?: unknown } | undefined)?.Attributes
    if (!Array.isArray(attributes)) return yield* Effect.fail({ message: `registry ${name} has no RegistryEntries.Attributes` })
    return new Map(attributes.flatMap((a) => {
      const r = a as Record<string, unknown>
      return typeof r["AttributeName"] === "string" ? [[r["AttributeName"], entryOf(r)] as const] : []
    }))
  })
