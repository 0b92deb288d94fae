// A SQLite log as schema 1 wrote it (before stream hashes, ADR 0030): the upgrade and the
// verifier must take such files as they are.
import { DatabaseSync } from "node:sqlite"

export interface LegacyRow {
  readonly streamId: string
  readonly revision: number
  readonly type: string
  readonly data: unknown
}

export const writeLegacyLog = (path: string, rows: ReadonlyArray<LegacyRow>) => {
  const db = new DatabaseSync(path)
  try {
    db.exec(`
      PRAGMA journal_mode = WAL;
      CREATE TABLE events (
        position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, revision INTEGER NOT NULL, type TEXT NOT NULL,
        schema_version INTEGER NOT NULL, data TEXT NOT NULL, meta TEXT NOT NULL, UNIQUE (stream_id, revision)
      ) STRICT;
      CREATE TABLE checkpoints (projection TEXT PRIMARY KEY, position INTEGER NOT NULL, state TEXT NOT NULL) STRICT;
      PRAGMA user_version = 1;`)
    const insert = db.prepare("INSERT INTO events (stream_id, revision, type, schema_version, data, meta) VALUES (?, ?, ?, 1, ?, ?)")
    for (const row of rows) {
      const meta = { occurredAt: "2025-06-01T00:00:00.000Z", actor: "legacy", correlationId: "c", causationId: null }
      insert.run(row.streamId, row.revision, row.type, JSON.stringify(row.data), JSON.stringify(meta))
    }
  } finally {
    db.close()
  }
}
