// Checking a log against its hash chains (ADR 0030): every stream's chain, event by event, and the
// notary's chain over the whole log against checkpoints (those in the log and any exported ones).
// Fed one event at a time in position order, so a large log is checked in constant memory per stream.
import { eventHash, GENESIS, logHash } from "./hash-chain.ts"
import type { StoredEvent } from "../ports/index.ts"
import type { LogCheckpoint } from "./notary.ts"

export type FindingKind = "changed" | "removed" | "inserted" | "reordered" | "checkpoint" | "signature"

export interface Finding {
  readonly kind: FindingKind
  /** The event named (or the first position of the range that does not match a checkpoint). */
  readonly position: number
  readonly streamId?: string
  readonly revision?: number
  /** For a checkpoint mismatch: the positions one of whose events was tampered with. */
  readonly range?: { readonly from: number; readonly to: number }
  readonly message: string
}

export interface SourcedCheckpoint {
  readonly checkpoint: LogCheckpoint
  /** Where it came from: "log" or the exported file's name. */
  readonly source: string
}

export interface VerifyOptions {
  readonly checkpoints: ReadonlyArray<SourcedCheckpoint>
  /** When given, every checkpoint must carry a signature this accepts. */
  readonly checkSignature?: (checkpoint: LogCheckpoint) => boolean
  /** The store numbers events 1, 2, 3... with no gaps (SQLite): a gap is a removed event. */
  readonly contiguousPositions: boolean
  /**
   * Events as an earlier export recorded them (position -> stream, revision, stream hash): each is
   * compared with the log, which names the event exactly even when every hash was recomputed.
   */
  readonly reference?: { readonly source: string; readonly events: ReadonlyMap<number, ReferenceEvent> }
}

export interface ReferenceEvent {
  readonly streamId: string
  readonly revision: number
  readonly hash: string
}

export interface VerifyReport {
  readonly ok: boolean
  readonly events: number
  readonly streams: number
  /** Events stored before stream hashes existed: covered by checkpoints only. */
  readonly unhashed: number
  readonly checkpointsMatched: number
  /** The last position a matching checkpoint vouches for (-1: none). */
  readonly coveredUpTo: number
  /** The earliest finding: the first event changed, removed, inserted or reordered. */
  readonly first?: Finding
  readonly findings: ReadonlyArray<Finding>
}

interface Head {
  readonly revision: number
  /** The chain as stored (to check each event against its stored predecessor: one edit, one finding). */
  readonly stored: string
  /** The chain recomputed from content (what the notary's chain covers). */
  readonly computed: string
}

const describe = (e: StoredEvent) => `${e.streamId}@${e.revision} (${e.type}) at position ${e.position}`

export const makeLogVerifier = (options: VerifyOptions) => {
  const streams = new Map<string, Head>()
  const findings: Array<Finding> = []
  const pending = [...options.checkpoints].sort((a, b) => a.checkpoint.position - b.checkpoint.position)
  let next = 0
  let chain = GENESIS
  let events = 0
  let unhashed = 0
  let lastPosition = 0
  let hashingSince: number | undefined
  let checkpointsMatched = 0
  /** Last position vouched for by a matching checkpoint; the chain is broken after a mismatch. */
  let coveredUpTo = -1
  let chainBroken = false
  /** Per source, the position of its last checkpoint that matched. */
  const lastMatched = new Map<string, number>()

  const settle = (upTo: number) => {
    while (next < pending.length && pending[next]!.checkpoint.position <= upTo) {
      const { checkpoint, source } = pending[next++]!
      const when = `checkpoint at position ${checkpoint.position} (${checkpoint.at}, ${source})`
      if (options.checkSignature !== undefined && !options.checkSignature(checkpoint)) {
        findings.push({
          kind: "signature", position: checkpoint.position,
          message: `${when} ${checkpoint.signature === undefined ? "is not signed" : "has a signature the public key does not accept"}`,
        })
        continue
      }
      if (chainBroken) continue
      if (checkpoint.logHash === chain && checkpoint.events === events) {
        checkpointsMatched++
        lastMatched.set(source, checkpoint.position)
        coveredUpTo = Math.max(coveredUpTo, checkpoint.position)
        continue
      }
      chainBroken = true
      // From after the last checkpoint of the same source that matched: one from another source
      // (the log itself) matching where an exported one does not was forged with the log.
      const from = (lastMatched.get(source) ?? 0) + 1
      const counted = checkpoint.events === events ? "" : ` (${events} events where it counted ${checkpoint.events})`
      findings.push({
        kind: "checkpoint", position: from, range: { from, to: checkpoint.position },
        message: `the log does not match ${when}${counted}: an event between positions ${from} and ${checkpoint.position} was changed, removed, inserted or reordered`,
      })
    }
  }

  /** `computed`: the event's hash from the recomputed chain (the same as from the stored one while they agree). */
  const streamFinding = (e: StoredEvent, head: Head | undefined, computed: string): Finding | undefined => {
    const expected = (head?.revision ?? -1) + 1
    if (e.revision > expected) {
      return {
        kind: "removed", position: e.position, streamId: e.streamId, revision: e.revision,
        message: `${e.streamId}: revision${e.revision - expected > 1 ? `s ${expected}..${e.revision - 1} are` : ` ${expected} is`} missing before ${describe(e)}`,
      }
    }
    if (e.revision < expected) {
      return {
        kind: "reordered", position: e.position, streamId: e.streamId, revision: e.revision,
        message: `${describe(e)} comes after revision ${expected - 1} of its stream: inserted or reordered`,
      }
    }
    if (e.hash === undefined) {
      if (hashingSince === undefined) return undefined
      return {
        kind: "inserted", position: e.position, streamId: e.streamId, revision: e.revision,
        message: `${describe(e)} has no stream hash, but events are hashed since position ${hashingSince}: inserted, or its hash removed`,
      }
    }
    const fromStored = head === undefined || head.stored === head.computed ? computed : eventHash(head.stored, e)
    if (e.hash !== fromStored) {
      return {
        kind: "changed", position: e.position, streamId: e.streamId, revision: e.revision,
        message: `${describe(e)} does not match its stream hash: it, or the hash of the event before it in its stream, was changed`,
      }
    }
    return undefined
  }

  const add = (e: StoredEvent) => {
    settle(e.position - 1)
    if (options.contiguousPositions && e.position !== lastPosition + 1 && e.position > lastPosition) {
      findings.push({
        kind: "removed", position: lastPosition + 1,
        message: `position${e.position - lastPosition > 2 ? `s ${lastPosition + 1}..${e.position - 1} are` : ` ${lastPosition + 1} is`} missing (the log numbers events without gaps): removed before ${describe(e)}`,
      })
    }
    const head = streams.get(e.streamId)
    const computed = eventHash(head?.computed ?? GENESIS, e)
    const finding = streamFinding(e, head, computed)
    if (finding !== undefined) findings.push(finding)
    if (e.hash === undefined) unhashed++
    else hashingSince ??= e.position
    const was = options.reference?.events.get(e.position)
    if (was !== undefined && (was.streamId !== e.streamId || was.revision !== e.revision || was.hash !== computed)) {
      findings.push({
        kind: was.streamId === e.streamId && was.revision === e.revision ? "changed" : "reordered",
        position: e.position, streamId: e.streamId, revision: e.revision,
        message: `${describe(e)} differs from ${options.reference!.source}, where position ${e.position} held ${was.streamId}@${was.revision}` +
          `${was.streamId === e.streamId && was.revision === e.revision ? " with other content" : ""}: changed, removed, inserted or reordered since`,
      })
    }
    streams.set(e.streamId, { revision: e.revision, stored: e.hash ?? computed, computed })
    chain = logHash(chain, e, computed)
    events++
    lastPosition = e.position
  }

  const finish = (): VerifyReport => {
    settle(lastPosition)
    for (const { checkpoint, source } of pending.slice(next)) {
      findings.push({
        kind: "removed", position: lastPosition + 1, range: { from: lastPosition + 1, to: checkpoint.position },
        message: `the log ends at position ${lastPosition}, but a checkpoint (${source}) covers it up to position ${checkpoint.position}: events removed from its end`,
      })
      next = pending.length
    }
    if (options.reference !== undefined) {
      const lost = [...options.reference.events.keys()].filter((p) => p > lastPosition).sort((a, b) => a - b)[0]
      if (lost !== undefined) {
        findings.push({
          kind: "removed", position: lost,
          message: `the log ends at position ${lastPosition}, but ${options.reference.source} has events up to position ${Math.max(...options.reference.events.keys())}: events removed from its end`,
        })
      }
    }
    const exact = findings.filter((f) => f.range === undefined).sort((a, b) => a.position - b.position)[0]
    const ranged = findings.filter((f) => f.range !== undefined).sort((a, b) => a.position - b.position)[0]
    // An exact finding inside (or before) the first unmatched range names the event itself.
    const first = exact !== undefined && (ranged === undefined || exact.position <= ranged.range!.to) ? exact : ranged
    return {
      ok: findings.length === 0, events, streams: streams.size, unhashed, checkpointsMatched, coveredUpTo,
      ...(first === undefined ? {} : { first }), findings,
    }
  }

  return { add, finish }
}
