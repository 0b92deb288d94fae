// Empty lists and maps that every node state without items shares, instead of one empty array or
// object per node and field (a dozen per node: about 600 bytes of a 2 KB idle node). States are
// never written in place (evolve copies what it changes), and these are frozen so that a write
// would fail loudly instead of reaching every node.
export const noItems: ReadonlyArray<never> = Object.freeze([])
export const noFields: Record<string, never> = Object.freeze({}) as Record<string, never>

/** `fields`, or the shared empty map when it has no fields. */
export const fieldsOrShared = <T extends object>(fields: T): T => {
  for (const _ in fields) return fields
  return noFields as T
}

/** `items`, or the shared empty list when it has none. */
export const itemsOrShared = <T>(items: ReadonlyArray<T>): ReadonlyArray<T> => (items.length === 0 ? noItems : items)
