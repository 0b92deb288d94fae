// Empty lists and maps that every node state without items shares, instead of one empty array or
// object per node and field (a dozen per node: about 600 bytes of a 2 KB idle node). States are
// never written in place (evolve copies what it changes), and these are frozen so that a write
// would fail loudly instead of reaching every node.
export const noItems: ReadonlyArray<never> = Object.freeze([])
export const noFields: Record<string, never> = Object.freeze({}) as Record<string, never>

// A fleet is mostly nodes of a few kinds: the same interfaces, the same properties, the same driver
// info but for the address. Each enroll decodes its own copy of these maps (a 14-slot interfaces map
// is ~170 bytes); the flat ones are kept once and shared, frozen for the same reason as the empties.
/** Distinct maps kept at most: past it, new ones are used as they are (a bound on this table). */
const sharedLimit = 1024
/** Larger maps are rarely repeated and cost more to compare than they save. */
const sharedKeys = 16
const shared = new Map<string, object>()

/** The map's keys and values as one text, or undefined when a value is not a plain scalar. */
const identityOf = (fields: object): string | undefined => {
  let text = ""
  let keys = 0
  for (const key in fields) {
    if (++keys > sharedKeys) return undefined
    const v: unknown = (fields as Record<string, unknown>)[key]
    // Lengths keep the text unambiguous whatever the keys and values hold.
    switch (typeof v) {
      case "string": text += `${key.length}:${key}s${v.length}:${v}`; break
      case "number": text += `${key.length}:${key}n${Object.is(v, -0) ? "-0" : v};`; break
      case "boolean": text += `${key.length}:${key}${v ? "t" : "f"}`; break
      default:
        if (v !== null) return undefined
        text += `${key.length}:${key}z`
    }
  }
  return text
}

/** The shared map last handed out per first key, with its keys in order: enrolls come in runs of one kind. */
const lastByFirstKey = new Map<string, { readonly keys: ReadonlyArray<string>; readonly map: object }>()

/** Whether `fields` has exactly the keys of `last`, in its order, with the same values. */
const sameAs = (fields: object, last: { readonly keys: ReadonlyArray<string>; readonly map: object }): boolean => {
  let i = 0
  for (const key in fields) {
    if (key !== last.keys[i++] || !Object.is((fields as Record<string, unknown>)[key], (last.map as Record<string, unknown>)[key])) return false
  }
  return i === last.keys.length
}

/**
 * `fields`, or the shared empty map when it has no fields, or the shared copy of an equal map (same
 * keys in the same order, same scalar values) when one was seen before. Shared maps are frozen.
 */
export const fieldsOrShared = <T extends object>(fields: T): T => {
  if (Object.isFrozen(fields)) return fields
  let first: string | undefined
  for (const key in fields) { first = key; break }
  if (first === undefined) return noFields as T
  // The common case, a map equal to the one before it, without building its text.
  const last = lastByFirstKey.get(first)
  if (last !== undefined && sameAs(fields, last)) return last.map as T
  const identity = identityOf(fields)
  if (identity === undefined) return fields
  let kept = shared.get(identity)
  if (kept === undefined) {
    if (shared.size >= sharedLimit) return fields
    kept = Object.freeze({ ...fields })
    shared.set(identity, kept)
  }
  if (last !== undefined || lastByFirstKey.size < sharedLimit) lastByFirstKey.set(first, { keys: Object.keys(kept), map: kept })
  return kept as T
}

/** `items`, or the shared empty list when it has none. */
export const itemsOrShared = <T>(items: ReadonlyArray<T>): ReadonlyArray<T> => (items.length === 0 ? noItems : items)

/** Texts kept at most (the same bound as the maps'): past it, new ones are used as they are. */
const sharedTexts = new Map<string, string>()

/**
 * `text`, or the equal string seen before: for names a fleet repeats on every node (a hardware
 * type, an image kind; not step names, which carry their operation's id). Each decoded event brings
 * its own copy, and each copy a node keeps is one more object for every full garbage collection to
 * mark.
 */
export const textOrShared = (text: string): string => {
  const kept = sharedTexts.get(text)
  if (kept !== undefined) return kept
  if (sharedTexts.size < sharedLimit) sharedTexts.set(text, text)
  return text
}
