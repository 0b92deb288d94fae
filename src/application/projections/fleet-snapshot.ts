// The fleet checkpoint's node records: each node state without the fields that still hold their
// initial value (most of an idle node's fifty), so the checkpoint of a large fleet is about half the
// JSON to write, read and parse. Restored states get back every field, in the initial state's
// order (one hidden class for all of them), and share the empty lists and maps and the names of
// states instead of holding one copy each.
import { initialState, noFields, noItems, powerStates, provisionStates, type NodeState, type Uuid } from "../../domain/index.ts"

const template = initialState("" as Uuid) as unknown as Readonly<Record<string, unknown>>

const isEmpty = (v: unknown): boolean => {
  if (Array.isArray(v)) return v.length === 0
  if (v === null || typeof v !== "object") return false
  for (const _ in v) return false
  return true
}

/** Whether `v` is the field's initial value (a fresh empty list or map counts as the shared one). */
const isInitial = (key: string, v: unknown): boolean => {
  if (!(key in template)) return false
  const initial = template[key]
  return v === initial || (typeof initial === "object" && initial !== null && isEmpty(v) && Array.isArray(v) === Array.isArray(initial))
}

/** A node state as the checkpoint holds it: its id and every field that is not at its initial value. */
export const compactNode = (n: NodeState): Record<string, unknown> => {
  const out: Record<string, unknown> = { nodeId: n.nodeId }
  for (const key in n) {
    const v = (n as unknown as Record<string, unknown>)[key]
    if (key !== "nodeId" && !isInitial(key, v)) out[key] = v
  }
  return out
}

const names = new Map<string, string>([...provisionStates, ...powerStates].map((s) => [s, s]))
const shareName = (v: unknown) => (typeof v === "string" ? names.get(v) ?? v : v)

/** The node state a compact record stands for. */
export const expandNode = (record: Record<string, unknown>): NodeState => {
  const n: Record<string, unknown> = { ...template }
  for (const key in record) {
    const v = record[key]
    n[key] = isEmpty(v) ? (Array.isArray(v) ? noItems : noFields) : v
  }
  n["provisionState"] = shareName(n["provisionState"])
  n["targetProvisionState"] = shareName(n["targetProvisionState"])
  n["powerState"] = shareName(n["powerState"])
  n["targetPowerState"] = shareName(n["targetPowerState"])
  return n as unknown as NodeState
}
