// A BIOS setting's registry entry (API 1.74, Ironic's BIOS registry fields): what the BMC's
// attribute registry says of it. Stored with the setting in BiosSettingsCached; absent when the
// BMC offers no registry (and in older events).
import * as t from "io-ts"

const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null])

export const BiosRegistryEntry = t.partial({
  attribute_type: Nullable(t.string),
  allowable_values: Nullable(t.array(t.string)),
  lower_bound: Nullable(t.number),
  upper_bound: Nullable(t.number),
  min_length: Nullable(t.number),
  max_length: Nullable(t.number),
  read_only: Nullable(t.boolean),
  reset_required: Nullable(t.boolean),
  unique: Nullable(t.boolean),
}, "BiosRegistryEntry")
export type BiosRegistryEntry = t.TypeOf<typeof BiosRegistryEntry>

export const biosRegistryFields = [
  "attribute_type", "allowable_values", "lower_bound", "upper_bound", "min_length", "max_length", "read_only", "reset_required", "unique",
] as const
