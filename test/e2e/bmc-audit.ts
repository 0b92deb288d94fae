// The rack's BMC journal (sim machines, see src/adapters/sim/hardware.ts) held against the leases
// in the log: every action on a machine's BMC must fall inside a lease its conductor held on that
// node, i.e. no two conductors ever acted on one BMC at once, and a conductor cut off from the
// store stopped before its lease ran out.
import type { StoredEvent } from "../../src/ports/index.ts"
import { byStream } from "./conductor-harness.ts"

/** `at`: when the command reached the BMC; `done`: when the machine had acted on it. */
export interface BmcAction { readonly node: string; readonly action: string; readonly by: string; readonly at: number; readonly done: number }

interface Segment { readonly holder: string; readonly from: number; until: number }

/** Each conductor's lease segments per node, from its LeaseAcquired (renewals extend) to expiry or release. */
export const leaseSegments = (events: ReadonlyArray<StoredEvent>): Map<string, Array<Segment>> => {
  const segments = new Map<string, Array<Segment>>()
  for (const [stream, list] of byStream(events)) {
    const mine: Array<Segment> = []
    let current: Segment | null = null
    for (const e of list) {
      const at = Date.parse(e.meta.occurredAt)
      if (e.type === "LeaseAcquired") {
        const data = e.data as { holder: string; expiresAt: string }
        if (current !== null && current.holder === data.holder && at <= current.until) current.until = Date.parse(data.expiresAt)
        else mine.push(current = { holder: data.holder, from: at, until: Date.parse(data.expiresAt) })
      } else if (e.type === "LeaseReleased" && current !== null) {
        current.until = Math.min(current.until, at)
        current = null
      }
    }
    segments.set(stream.slice("node-".length), mine)
  }
  return segments
}

/** The actions that no lease of their conductor covers, described. */
export const auditBmcActions = (actions: ReadonlyArray<BmcAction>, events: ReadonlyArray<StoredEvent>): Array<string> => {
  const segments = leaseSegments(events)
  return actions
    .filter((a) => !(segments.get(a.node) ?? []).some((s) => s.holder === a.by && s.from <= a.at && a.at <= s.until))
    .map((a) => {
      const around = (segments.get(a.node) ?? []).map((s) => `${s.holder} ${new Date(s.from).toISOString()}..${new Date(s.until).toISOString()}`)
      return `${a.by} ${a.action} on ${a.node} at ${new Date(a.at).toISOString()} outside its leases (${around.join(", ")})`
    })
}
