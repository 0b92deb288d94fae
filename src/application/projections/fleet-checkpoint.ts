// The fleet checkpoint as stored (ADR 0161): one JSON text, column by column instead of node by node.
// A field's column is either every node's value in fleet order, or, when few distinct values recur
// across the fleet (interfaces, instance_info, states, drivers), the distinct values once and one
// small number per node. The text is half the size of per-node records, parses faster (arrays of
// numbers, no keys per node), and the restored nodes share one copy of each recurring value.
import * as Effect from "effect/Effect"
import { initialState, type NodeState, type Uuid } from "../../domain/index.ts"
import { noFields, noItems, textOrShared } from "../../domain/shared-values.ts"

/** The stored format's version, checked with the fleet's snapshot version (fleetSnapshotVersion). */
export interface FleetColumns {
  readonly version: number
  readonly position: number
  readonly count: number
  /** Recurring values, each once; referred to by index from the shared columns. */
  readonly shared: ReadonlyArray<unknown>
  /**
   * Per field: every node's value (`values`) or its index into `shared` (`refs`); a field that is no
   * field of the initial state (an optional one) only for the nodes that have it, by index (`sparse`).
   */
  readonly columns: Readonly<Record<string, Column>>
}

type Column =
  | { readonly values: ReadonlyArray<unknown> }
  | { readonly refs: ReadonlyArray<number> }
  | { readonly sparse: Readonly<Record<string, unknown>> }

const template = initialState("" as Uuid) as unknown as Readonly<Record<string, unknown>>
const fields = Object.keys(template)

/**
 * A value's JSON text. Plain values skip JSON.stringify's general path; a frozen object (a value a
 * restored fleet shares among its nodes, or a shared empty) is stringified once per save.
 */
const textOf = (v: unknown, frozen: Map<object, string>): string => {
  switch (typeof v) {
    case "string": return JSON.stringify(v)
    case "number": return Number.isFinite(v) ? String(v) : "null"
    case "boolean": return v ? "true" : "false"
    case "object": {
      if (v === null) return "null"
      if (!Object.isFrozen(v)) return JSON.stringify(v)
      let text = frozen.get(v)
      if (text === undefined) { text = JSON.stringify(v); frozen.set(v, text) }
      return text
    }
    default: return JSON.stringify(v) ?? "null"
  }
}

/** Nodes' values of one field encoded between two chances to hand the event loop back. */
const stepNodes = 512

/** `parts` as the pieces of one JSON list's items, a "," piece between two: no string holds them all. */
const pushList = (pieces: Array<string>, parts: ReadonlyArray<string>): void => {
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) pieces.push(",")
    pieces.push(parts[i]!)
  }
}

/** `items` joined a step's worth at a time (one join of 100,000 values held the loop for tens of ms). */
function* joinedBySteps(items: ReadonlyArray<string>): Generator<void, Array<string>> {
  const parts: Array<string> = []
  for (let i = 0; i < items.length; i += stepNodes) {
    parts.push(items.slice(i, i + stepNodes).join(","))
    yield
  }
  return parts
}

/**
 * The checkpoint text of these node states, as steps: the generator pauses after every few hundred
 * nodes' values so that a caller can let other work run in between (encodeCheckpointYielding).
 * Each value is stringified once; values whose text recurs go to the shared table when a field has
 * few distinct ones (by default at most one per 4 nodes). The text comes back in pieces, each at
 * most a step's worth of values: joined into one string, the tens of MB of a large fleet's text were
 * one copy of 0.2-0.3 s on the event loop, and another when the store first read a character of it
 * (ADR 0191).
 */
function* encodeSteps(version: number, position: number, nodes: ReadonlyArray<NodeState>, sharedPerNode: number): Generator<void, Array<string>> {
  const count = nodes.length
  const most = count * sharedPerNode
  const shared: Array<string> = []
  const sharedAt = new Map<string, number>()
  const columns: Array<string> = []
  const texts = new Array<string>(count)
  const frozen = new Map<object, string>()
  const optional = new Set<string>()
  const column = (field: string, kind: string, open: string, close: string, parts: ReadonlyArray<string>) => {
    columns.push(`${columns.length > 0 ? "," : ""}${JSON.stringify(field)}:{"${kind}":${open}`)
    pushList(columns, parts)
    columns.push(`${close}}`)
  }
  for (let i = 0; i < count; i++) {
    for (const key in nodes[i]) if (!(key in template)) optional.add(key)
    if (i % stepNodes === stepNodes - 1) yield
  }
  for (const field of optional) {
    const present: Array<string> = []
    for (let i = 0; i < count; i++) {
      const n = nodes[i]!
      if (field in n) present.push(`"${i}":${textOf((n as unknown as Record<string, unknown>)[field], frozen)}`)
      if (i % stepNodes === stepNodes - 1) yield
    }
    column(field, "sparse", "{", "}", yield* joinedBySteps(present))
  }
  for (const field of fields) {
    const initial = JSON.stringify(template[field])
    const distinct = new Map<string, number>()
    let changed = false
    for (let i = 0; i < count; i++) {
      const text = textOf((nodes[i] as unknown as Record<string, unknown>)[field], frozen)
      texts[i] = text
      if (text !== initial) changed = true
      if (distinct.size <= most) distinct.set(text, (distinct.get(text) ?? 0) + 1)
      if (i % stepNodes === stepNodes - 1) yield
    }
    // A field every node holds at its initial value is left out; restore gives it that value.
    if (!changed) continue
    if (distinct.size <= most) {
      const parts: Array<string> = []
      const refs = new Array<number>(stepNodes)
      for (let i = 0; i < count; i++) {
        let at = sharedAt.get(texts[i]!)
        if (at === undefined) { at = shared.push(texts[i]!) - 1; sharedAt.set(texts[i]!, at) }
        refs[i % stepNodes] = at
        if (i % stepNodes === stepNodes - 1 || i === count - 1) {
          refs.length = (i % stepNodes) + 1
          parts.push(refs.join(","))
          yield
        }
      }
      column(field, "refs", "[", "]", parts)
    } else {
      column(field, "values", "[", "]", yield* joinedBySteps(texts))
    }
  }
  const pieces = [`{"version":${version},"position":${position},"count":${count},"shared":[`]
  pushList(pieces, yield* joinedBySteps(shared))
  pieces.push(`],"columns":{`)
  for (const piece of columns) pieces.push(piece)
  pieces.push("}}")
  return pieces
}

/** The checkpoint text of these node states, in one go (encodeSteps run to the end). */
export const encodeCheckpoint = (version: number, position: number, nodes: ReadonlyArray<NodeState>, sharedPerNode = 1 / 4): string => {
  const steps = encodeSteps(version, position, nodes, sharedPerNode)
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value.join("")
  }
}

/**
 * One turn of the event loop: the I/O and timers that were waiting run before this resumes; with
 * `restMs`, the loop has that long for other work (and its own idle time) before the next slice.
 */
const nextTurn = (restMs: number) => Effect.promise(() => new Promise<void>((resume) => (restMs > 0 ? setTimeout(resume, restMs) : setImmediate(resume))))

/**
 * The same text as encodeCheckpoint, in pieces (for CheckpointStore.save), encoded in slices of
 * about `sliceMs` of CPU with a turn of the event loop between them (ADR 0180): at 100,000 nodes an
 * encode takes about a second, which in one go held every request and every conductor step behind
 * it. The caller passes node states taken at one position; they are immutable, so the slices read one
 * consistent fleet while it moves on. `restMs` between slices keeps the encode to a share of the loop
 * (ADR 0191): back to back, the slices of a large fleet's encode took half of a loop that a read load
 * already kept busy.
 */
export const encodeCheckpointYielding = (
  version: number,
  position: number,
  nodes: ReadonlyArray<NodeState>,
  { sliceMs = 5, sharedPerNode = 1 / 4, restMs = 0 }: { readonly sliceMs?: number; readonly sharedPerNode?: number; readonly restMs?: number } = {},
): Effect.Effect<ReadonlyArray<string>> =>
  Effect.gen(function* () {
    const steps = encodeSteps(version, position, nodes, sharedPerNode)
    let began = performance.now()
    for (;;) {
      const step = steps.next()
      if (step.done) return step.value
      if (performance.now() - began >= sliceMs) {
        yield* nextTurn(restMs)
        began = performance.now()
      }
    }
  })

const isEmpty = (v: unknown): boolean => {
  if (Array.isArray(v)) return v.length === 0
  if (v === null || typeof v !== "object") return false
  for (const _ in v) return false
  return true
}

/** Frozen all the way down: one value is held by many nodes, so a write in place must throw, not spread. */
const deepFreeze = (v: unknown): unknown => {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    for (const k in v) deepFreeze((v as Record<string, unknown>)[k])
    Object.freeze(v)
  }
  return v
}

/**
 * A restored node's timestamps as one string per distinct value, and its image kind as one shared string.
 * JSON.parse makes a string per value: a restored fleet held four timestamps per node (createdAt,
 * updatedAt, provisionUpdatedAt, its operation's startedAt) of which 1.8 were distinct, and an
 * image kind per deployed node, each a heap object that every full collection marks (ADR 0195).
 * The operation and the deploy state are the node's own, fresh from JSON.parse: written in place.
 */
const shareStrings = (n: Record<string, unknown>): void => {
  const created = n["createdAt"]
  const updated = n["updatedAt"] === created ? created : n["updatedAt"]
  n["updatedAt"] = updated
  if (n["provisionUpdatedAt"] === updated) n["provisionUpdatedAt"] = updated
  else if (n["provisionUpdatedAt"] === created) n["provisionUpdatedAt"] = created
  const operation = n["operation"] as Record<string, unknown> | null
  if (operation !== null && typeof operation === "object" && !Object.isFrozen(operation)) {
    const started = operation["startedAt"]
    if (started === created) operation["startedAt"] = created
    else if (started === updated) operation["startedAt"] = updated
    else if (started === n["provisionUpdatedAt"]) operation["startedAt"] = n["provisionUpdatedAt"]
  }
  const deploy = n["deploy"] as Record<string, unknown> | null
  if (deploy !== null && typeof deploy === "object" && !Object.isFrozen(deploy)) {
    if (typeof deploy["imageKind"] === "string") deploy["imageKind"] = textOrShared(deploy["imageKind"])
  }
}

/** The node states a checkpoint text holds, in the initial state's field order (one hidden class). */
export const decodeCheckpoint = (stored: FleetColumns): Array<NodeState> => {
  const shared = stored.shared.map((v) => (isEmpty(v) ? (Array.isArray(v) ? noItems : noFields) : deepFreeze(v)))
  const present = fields.filter((f) => f in stored.columns)
  const values = present.map((f) => { const c = stored.columns[f]!; return "values" in c ? c.values : null })
  const refs = present.map((f) => { const c = stored.columns[f]!; return "refs" in c ? c.refs : [] })
  const nodes = new Array<NodeState>(stored.count)
  for (let i = 0; i < stored.count; i++) {
    const n: Record<string, unknown> = { ...template }
    for (let f = 0; f < present.length; f++) {
      const own = values[f]
      if (own !== null) {
        const v = own![i]
        n[present[f]!] = isEmpty(v) ? (Array.isArray(v) ? noItems : noFields) : v
      } else {
        n[present[f]!] = shared[refs[f]![i]!]
      }
    }
    shareStrings(n)
    nodes[i] = n as unknown as NodeState
  }
  for (const field in stored.columns) {
    const c = stored.columns[field]!
    if (!("sparse" in c)) continue
    for (const i in c.sparse) {
      const v = c.sparse[i]
      ;(nodes[Number(i)] as unknown as Record<string, unknown>)[field] = isEmpty(v) ? (Array.isArray(v) ? noItems : noFields) : v
    }
  }
  return nodes
}
