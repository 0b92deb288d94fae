// Opening the SQLite event store file: connection settings and schema. Several processes (one per
// conductor) may open the same file at once, so everything here is safe to run concurrently.
import { DatabaseSync } from "node:sqlite"

/** Bumped when the tables change; a file from a newer version is refused rather than misread. */
const SCHEMA_VERSION = 2

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position       INTEGER PRIMARY KEY, -- rowid alias; never deleted, so it only grows
    stream_id      TEXT    NOT NULL,
    revision       INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    data           TEXT    NOT NULL,    -- JSON
    meta           TEXT    NOT NULL,    -- JSON
    hash           TEXT,                -- stream hash (ADR 0030); NULL on events from schema 1
    UNIQUE (stream_id, revision)
  ) STRICT;
  CREATE TABLE IF NOT EXISTS checkpoints (
    projection TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL,
    state      TEXT    NOT NULL
  ) STRICT;
`

/**
 * The read by stream's rows after the last one read (ADR 0194): the (stream_id, revision) index walked
 * from the cursor, up to the head the first page fixed. One text for both readers of it, this thread's
 * and the read ahead's worker (ADR 0208), so that their pages cannot differ.
 */
export const streamOrderRows = "FROM events WHERE (stream_id, revision) > (?, ?) AND position <= ? ORDER BY stream_id, revision LIMIT ?"

export const openEventStoreDatabase = (path: string, busyTimeoutMs: number): DatabaseSync => {
  // `timeout` is SQLite's busy_timeout: a writer waits this long for another process's write
  // transaction (they last milliseconds) before failing with "database is locked".
  const db = new DatabaseSync(path, { timeout: busyTimeoutMs })
  try {
    // WAL: readers never block the writer nor each other, across processes too, and a commit
    // appends to one file instead of rewriting pages in place. The mode is stored in the file.
    const mode = db.prepare("PRAGMA journal_mode = WAL").get()?.["journal_mode"]
    if (mode !== "wal") throw new Error(`cannot use WAL journal mode on ${path} (got ${String(mode)})`)
    // synchronous=FULL: every commit fsyncs the WAL before the append is acknowledged. NORMAL would
    // already survive kill -9 of this process (a committed transaction is in the OS page cache),
    // but could lose the last appends on power loss or a kernel crash; an acknowledged event may
    // already have powered a server on or overwritten a disk, so the log must not forget it.
    // Group commit (sqlite-append.ts) shares one fsync among the appends that arrive together.
    db.exec("PRAGMA synchronous = FULL")
    // The commit that takes the WAL past this many pages copies them into the database and syncs
    // it, on the event loop. At SQLite's default of 1,000 pages that was a 32-43 ms commit about
    // every ten seconds under load. At 100 each copy is small: in a full bench:scale run no commit
    // took over 28 ms, and a fifth as many took over 10 ms. The WAL file stays under half a megabyte
    // (ADR 0198).
    db.exec("PRAGMA wal_autocheckpoint = 100")
    // BEGIN IMMEDIATE takes the write lock up front, so two processes creating the schema at the
    // same moment serialise instead of one failing half-way.
    db.exec("BEGIN IMMEDIATE")
    try {
      const version = Number(db.prepare("PRAGMA user_version").get()?.["user_version"] ?? 0)
      if (version > SCHEMA_VERSION) {
        throw new Error(`${path} has schema version ${version}, newer than this program's ${SCHEMA_VERSION}`)
      }
      db.exec(SCHEMA)
      // Schema 1 -> 2: the stream hash column. Old events keep NULL: they are never rewritten.
      const columns = db.prepare("PRAGMA table_info(events)").all().map((c) => c["name"])
      if (!columns.includes("hash")) db.exec("ALTER TABLE events ADD COLUMN hash TEXT")
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
      db.exec("COMMIT")
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK")
      throw error
    }
    return db
  } catch (error) {
    db.close()
    throw error
  }
}
