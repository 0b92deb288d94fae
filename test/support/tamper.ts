// Tampering with a copy of a SQLite log, as someone with write access to the file would: the rows
// are read, one event is edited, deleted, inserted or swapped, positions and revisions are
// renumbered so the file looks sound, and (the thorough tamperer) every stream hash and the
// notary's in-log checkpoints are recomputed to match.
import { DatabaseSync } from "node:sqlite"
import { openEventStoreDatabase } from "../../src/adapters/eventstore/sqlite-schema.ts"
import { NOTARY_STREAM, type LogCheckpoint } from "../../src/application/notary.ts"
import { eventHash, GENESIS, logHash } from "../../src/application/hash-chain.ts"

export interface Row {
  position: number
  streamId: string
  revision: number
  type: string
  schemaVersion: number
  data: unknown
  meta: unknown
  hash: string | null
  /** Which original row this is (for the test's own bookkeeping). */
  readonly origin: number
}

export type Tampering =
  | { readonly kind: "edit"; readonly at: number }
  | { readonly kind: "delete"; readonly at: number }
  | { readonly kind: "insert"; readonly at: number }
  | { readonly kind: "swap"; readonly at: number; readonly with: number }

export const readRows = (path: string): Array<Row> => {
  const db = new DatabaseSync(path, { readOnly: true })
  try {
    return db.prepare("SELECT position, stream_id, revision, type, schema_version, data, meta, hash FROM events ORDER BY position")
      .all().map((r, i) => ({
        position: Number(r["position"]), streamId: String(r["stream_id"]), revision: Number(r["revision"]),
        type: String(r["type"]), schemaVersion: Number(r["schema_version"]),
        data: JSON.parse(String(r["data"])), meta: JSON.parse(String(r["meta"])),
        hash: r["hash"] === null ? null : String(r["hash"]), origin: i,
      }))
  } finally {
    db.close()
  }
}

export const writeRows = (path: string, rows: ReadonlyArray<Row>) => {
  openEventStoreDatabase(path, 1000).close()
  const db = new DatabaseSync(path)
  try {
    db.exec("BEGIN")
    const insert = db.prepare("INSERT INTO events (position, stream_id, revision, type, schema_version, data, meta, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    for (const r of rows) insert.run(r.position, r.streamId, r.revision, r.type, r.schemaVersion, JSON.stringify(r.data), JSON.stringify(r.meta), r.hash)
    db.exec("COMMIT")
  } finally {
    db.close()
  }
}

/**
 * Applies the tampering to node events (`at` indexes the rows outside the notary's stream) and
 * renumbers positions 1..n and each stream's revisions in the new order. Returns the rows and the
 * new position where the change begins (for a deletion: of the event that took its place).
 */
export const tamper = (original: ReadonlyArray<Row>, t: Tampering): { rows: Array<Row>; spot: number } => {
  const rows = original.map((r) => ({ ...r }))
  const nodeIndexes = rows.flatMap((r, i) => (r.streamId === NOTARY_STREAM ? [] : [i]))
  const at = nodeIndexes[t.at % nodeIndexes.length]!
  const target = rows[at]!
  let marked: Row
  switch (t.kind) {
    case "edit":
      target.data = { ...(target.data as object), tampered: true }
      marked = target
      break
    case "delete":
      rows.splice(at, 1)
      marked = rows[at] ?? rows[rows.length - 1]!
      break
    case "insert": {
      // A made-up event, put before the target in its stream, with the target's hash as a disguise.
      const forged = { ...target, data: { forged: true }, origin: -1 }
      rows.splice(at, 0, forged)
      marked = forged
      break
    }
    case "swap": {
      // Two different events (a swap with itself would change nothing).
      const i = t.at % nodeIndexes.length, j = t.with % nodeIndexes.length
      const other = nodeIndexes[i === j ? (j + 1) % nodeIndexes.length : j]!
      const [lo, hi] = at < other ? [at, other] : [other, at]
      const a = rows[lo]!, b = rows[hi]!
      rows[lo] = b
      rows[hi] = a
      marked = rows[lo]!
      break
    }
  }
  const revisions = new Map<string, number>()
  rows.forEach((r, i) => {
    r.position = i + 1
    const revision = (revisions.get(r.streamId) ?? -1) + 1
    revisions.set(r.streamId, revision)
    r.revision = revision
  })
  return { rows, spot: marked.position }
}

/**
 * The thorough tamperer: recomputes every stream hash from the (tampered) content, and rewrites
 * the notary's in-log checkpoints to the recomputed log hashes (unsigned: the key is elsewhere).
 */
export const recomputeHashes = (rows: Array<Row>, original: ReadonlyArray<Row>) => {
  // Where each original position went: a checkpoint keeps pointing at the same event.
  const moved = new Map<number, number>()
  for (const r of rows) if (r.origin >= 0) moved.set(original[r.origin]!.position, r.position)
  const heads = new Map<string, string>()
  const chainAt = new Map<number, { hash: string; events: number }>()
  let chain = GENESIS
  rows.forEach((r, i) => {
    if (r.streamId === NOTARY_STREAM && r.type === "LogCheckpointed") {
      const c = r.data as LogCheckpoint
      let target = moved.get(c.position)
      for (let p = c.position; target === undefined && p > 0; p--) target = moved.get(p)
      const at = chainAt.get(target ?? 0) ?? { hash: GENESIS, events: 0 }
      // Only what no longer matches is rewritten (and loses its signature: the key is elsewhere).
      const same = target === c.position && at.hash === c.logHash && at.events === c.events
      if (!same) r.data = { position: target ?? 0, logHash: at.hash, events: at.events, at: c.at }
    }
    const hash = eventHash(heads.get(r.streamId) ?? GENESIS, r)
    heads.set(r.streamId, hash)
    r.hash = hash
    chain = logHash(chain, r, hash)
    chainAt.set(r.position, { hash: chain, events: i + 1 })
  })
}
