// The SQLite log opened read-only, for offline audit (verify, export): never upgrades, locks or
// writes the file, so a copy under examination stays exactly as it was handed over.
import { existsSync } from "node:fs"
import { DatabaseSync, type SQLOutputValue } from "node:sqlite"
import type { StoredEvent } from "../../ports/event-store.ts"

export interface LogReader {
  /** Every event in global order, a page at a time. */
  readonly events: (pageSize?: number) => Generator<StoredEvent>
  readonly stream: (streamId: string) => ReadonlyArray<StoredEvent>
  readonly close: () => void
}

export const openLogReadOnly = (path: string): LogReader => {
  if (!existsSync(path)) throw new Error(`${path} does not exist`)
  const db = new DatabaseSync(path, { readOnly: true })
  try {
    const columns = db.prepare("PRAGMA table_info(events)").all().map((c) => c["name"])
    if (columns.length === 0) throw new Error(`${path} is not an ironledger log (no events table)`)
    // Files from schema 1 have no hash column: every event reads as unhashed.
    const select = `position, stream_id, revision, type, schema_version, data, meta, ${columns.includes("hash") ? "hash" : "NULL"}`
    const after = db.prepare(`SELECT ${select} FROM events WHERE position > ? ORDER BY position LIMIT ?`)
    const ofStream = db.prepare(`SELECT ${select} FROM events WHERE stream_id = ? ORDER BY revision`)
    after.setReturnArrays(true)
    ofStream.setReturnArrays(true)
    const toEvent = (row: ReadonlyArray<SQLOutputValue>): StoredEvent => ({
      position: Number(row[0]), streamId: row[1] as string, revision: Number(row[2]), type: row[3] as string,
      schemaVersion: Number(row[4]), data: JSON.parse(row[5] as string), meta: JSON.parse(row[6] as string),
      hash: (row[7] ?? undefined) as string | undefined,
    })
    return {
      events: function* (pageSize = 5000) {
        let position = -1
        for (;;) {
          const rows = after.all(position, pageSize) as unknown as Array<ReadonlyArray<SQLOutputValue>>
          for (const row of rows) yield toEvent(row)
          if (rows.length < pageSize) return
          position = Number(rows[rows.length - 1]![0])
        }
      },
      stream: (streamId) => (ofStream.all(streamId) as unknown as Array<ReadonlyArray<SQLOutputValue>>).map(toEvent),
      close: () => db.close(),
    }
  } catch (error) {
    db.close()
    throw error
  }
}
