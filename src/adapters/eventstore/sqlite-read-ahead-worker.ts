// The read ahead's thread (sqlite-read-ahead.ts): reads the log by stream on a connection of its own
// and posts each page as one JSON text, at most as many pages ahead as the reader has granted.
import { DatabaseSync } from "node:sqlite"
import { parentPort, workerData } from "node:worker_threads"
import type { ReadAheadStart, ReadAheadMessage } from "./sqlite-read-ahead.ts"
import { streamOrderRows } from "./sqlite-schema.ts"

const { path, upTo, limit, pagesAhead, busyTimeoutMs } = workerData as ReadAheadStart
const port = parentPort!
const db = new DatabaseSync(path, { readOnly: true, timeout: busyTimeoutMs })
// Each event as the text `position,revision,"type",schemaVersion,data,meta`, made by SQLite; data and
// meta go in as stored (JSON texts), to be parsed with the page.
const select = db.prepare(
  "SELECT stream_id, revision, position || ',' || revision || ',' || json_quote(type) || ',' || schema_version || ',' || data || ',' || meta " +
    streamOrderRows,
)
select.setReturnArrays(true)

let granted = pagesAhead
let streamId = ""
let revision = -1
let done = false

/** One page: `[[streamId, count, [event fields, event fields, ...]], ...]`, a stream's events together. */
const readPage = (): ReadAheadMessage => {
  const rows = select.all(streamId, revision, upTo, limit) as unknown as Array<readonly [string, number, string]>
  const groups: Array<string> = []
  let group: Array<string> = []
  const endGroup = () => {
    if (group.length > 0) groups.push(`[${JSON.stringify(streamId)},${group.length},[${group.join(",")}]]`)
    group = []
  }
  for (const [stream, rev, fields] of rows) {
    if (stream !== streamId) {
      endGroup()
      streamId = stream
    }
    group.push(fields)
    revision = rev
  }
  endGroup()
  done = rows.length < limit
  return { page: `[${groups.join(",")}]`, count: rows.length }
}

const pump = () => {
  if (done) return // a grant that came before the port closed
  try {
    while (granted > 0 && !done) {
      granted--
      port.postMessage(readPage())
    }
  } catch (error) {
    done = true
    port.postMessage({ error: error instanceof Error ? error.message : String(error) } satisfies ReadAheadMessage)
  }
  if (done) {
    db.close()
    port.close()
  }
}

port.on("message", (more: number) => {
  granted += more
  pump()
})
pump()
