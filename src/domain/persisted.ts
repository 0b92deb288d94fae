// The persisted shape of an event and how old shapes are read: {type, schemaVersion, data}.
// Old versions are upcast on read, never rewritten in the log.
import * as E from "fp-ts/lib/Either.js"
import { eventData, eventTypes, type EventType, type NodeEvent } from "./events.ts"
import { decodeWith } from "./values.ts"

export const schemaVersions: Partial<Record<EventType, number>> = { Enrolled: 3, NodeUpdated: 3, CallbackRejected: 2 }
export const currentVersion = (type: EventType): number => schemaVersions[type] ?? 1

/**
 * Upcasters: upcasters[type][v] turns version v data into version v + 1. When an event's shape
 * changes, bump its entry in schemaVersions and add the step here; the log keeps the old bytes.
 */
export const upcasters: Partial<Record<EventType, Record<number, (data: unknown) => unknown>>> = {
  // Version 1 named simulated machines with a simulated ramdisk "fake-hardware"; that name now
  // means Ironic's fake-hardware (every interface fake, nothing to wait for), and those machines
  // are the "sim" hardware type (ADR 0011).
  // Version 3 added the record fields (instance, owner, traits, protected, retired, ...): v2 data
  // has none of them and reads unchanged.
  Enrolled: { 1: (data) => simWasFakeHardware(data), 2: (data) => data },
  NodeUpdated: { 1: (data) => simWasFakeHardware(data), 2: (data) => data },
  // v1 recorded every refusal alone, without its source.
  CallbackRejected: { 1: (data) => ({ ...(data as object), count: 1, sources: [] }) },
}

function simWasFakeHardware(data: unknown): unknown {
  if (typeof data !== "object" || data === null) return data
  const d = data as Record<string, unknown>
  return d["driver"] === "fake-hardware" ? { ...d, driver: "sim" } : d
}

export interface PersistedEvent {
  readonly type: string
  readonly schemaVersion: number
  readonly data: unknown
}

export const encodeEvent = (event: NodeEvent): PersistedEvent => ({
  type: event.type,
  schemaVersion: currentVersion(event.type),
  // Codecs here are identity on output (brands are plain strings), so data is already JSON-ready.
  data: event.data,
})

/** Each event type's name as one string of this build's, which a type read from the store is swapped for. */
const knownTypes = new Map<string, EventType>(eventTypes.map((type) => [type, type]))

export const decodeEvent = (p: PersistedEvent): E.Either<string, NodeEvent> => {
  const type = knownTypes.get(p.type)
  if (type === undefined) return E.left(`unknown event type "${p.type}"`)
  const target = currentVersion(type)
  if (!Number.isInteger(p.schemaVersion) || p.schemaVersion < 1 || p.schemaVersion > target) {
    return E.left(`event ${type} has schema version ${p.schemaVersion}; this build reads 1..${target}`)
  }
  let data = p.data
  for (let v = p.schemaVersion; v < target; v++) {
    const up = upcasters[type]?.[v]
    if (!up) return E.left(`no upcaster for ${type} from version ${v}`)
    data = up(data)
  }
  const codec = eventData[type] as unknown as import("io-ts").Type<unknown, unknown, unknown>
  // `is` checks what `decode` checks without building a context and an Either per value (a replay
  // decodes every event of the log); every codec here is the identity on valid data (no exact or
  // strict codecs, brands are plain values), so valid data is its own decoding. `decode` runs only
  // to say what is wrong.
  if (codec.is(data)) return E.right({ type, data } as NodeEvent)
  return E.map((decoded) => ({ type, data: decoded }) as NodeEvent)(decodeWith(codec, data))
}
