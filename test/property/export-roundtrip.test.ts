// `ironledger export` round-trips: the JSON lines and the CSV, read back, give every event of the
// log exactly (data of any JSON shape, text with quotes, commas, newlines, any Unicode), and each
// exported hash is the stream hash of the event as read back, so other tools can check the chain.
import { after, test } from "node:test"
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Writable } from "node:stream"
import { promisify } from "node:util"
import { parse } from "csv-parse/sync"
import fc from "fast-check"
import * as Effect from "effect/Effect"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { openLogReadOnly } from "../../src/adapters/eventstore/sqlite-reader.ts"
import { exportColumns, exportLog, type ExportedEvent } from "../../src/cli/commands/fleet-export.ts"
import { eventHash, GENESIS } from "../../src/application/hash-chain.ts"
import { EventStore, type StoredEvent } from "../../src/ports/index.ts"

const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "ironledger-export-"))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

const collect = () => {
  const chunks: Array<Buffer> = []
  const sink = new Writable({ write: (chunk, _enc, done) => { chunks.push(Buffer.from(chunk)); done() } })
  return { sink, text: () => Buffer.concat(chunks).toString("utf8") }
}

const fromExported = (e: ExportedEvent): StoredEvent => ({
  position: e.position, streamId: e.stream_id, revision: e.revision, type: e.type, schemaVersion: e.schema_version,
  data: e.data, hash: e.hash ?? undefined,
  meta: { occurredAt: e.occurred_at, actor: e.actor, correlationId: e.correlation_id, causationId: e.causation_id, ...(e.instance_uuid === null ? {} : { instanceUuid: e.instance_uuid }) },
})

/** CSV cells are text: numbers, null and the JSON data column turned back. */
const fromCsvRow = (row: Record<string, string>): ExportedEvent => ({
  position: Number(row["position"]), stream_id: row["stream_id"]!, revision: Number(row["revision"]), type: row["type"]!,
  schema_version: Number(row["schema_version"]), occurred_at: row["occurred_at"]!, actor: row["actor"]!,
  correlation_id: row["correlation_id"]!, causation_id: row["causation_id"] === "" ? null : row["causation_id"]!,
  data: JSON.parse(row["data"]!), hash: row["hash"] === "" ? null : row["hash"]!,
  instance_uuid: row["instance_uuid"] === "" ? null : row["instance_uuid"]!,
})

const hashesHold = (events: ReadonlyArray<StoredEvent>) => {
  const heads = new Map<string, string>()
  for (const e of events) {
    assert.equal(e.hash, eventHash(heads.get(e.streamId) ?? GENESIS, e), `hash of ${e.streamId}@${e.revision}`)
    heads.set(e.streamId, e.hash!)
  }
}

const appendArb = fc.record({
  stream: fc.integer({ min: 0, max: 2 }),
  type: fc.constantFrom("Enrolled", "Updated", "Note"),
  data: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  actor: fc.constantFrom("admin", "a,b \"quoted\"", "multi\nline", "ü-ñ-日本"),
  causation: fc.option(fc.constantFrom("c-1", "c,2"), { nil: null }),
  instance: fc.option(fc.uuid(), { nil: null }),
})

test("export as JSON lines and as CSV gives back every event and its hash", { timeout: 120_000 }, async () => {
  await fc.assert(fc.asyncProperty(fc.array(appendArb, { minLength: 1, maxLength: 12 }), async (appends) => {
    const db = join(dir, `log-${++files}.db`)
    const revisions = new Map<number, number>()
    await Effect.runPromise(Effect.provide(Effect.gen(function* () {
      const store = yield* EventStore
      for (const [i, a] of appends.entries()) {
        const expected = revisions.get(a.stream) ?? -1
        revisions.set(a.stream, expected + 1)
        yield* store.append(`node-${a.stream}`, [{
          type: a.type, schemaVersion: 1, data: a.data,
          meta: { occurredAt: new Date(1_750_000_000_000 + i).toISOString(), actor: a.actor, correlationId: `k${i}`, causationId: a.causation, ...(a.instance === null ? {} : { instanceUuid: a.instance }) },
        }], expected < 0 ? "no_stream" : expected)
      }
    }), makeSqliteEventStore(db)))
    const log = openLogReadOnly(db)
    const stored = [...log.events()]
    log.close()

    const jsonl = collect()
    await exportLog(db, { format: "jsonl" }, jsonl.sink)
    const fromJsonl = jsonl.text().trimEnd().split("\n").map((line) => fromExported(JSON.parse(line)))
    assert.deepEqual(fromJsonl, stored)
    hashesHold(fromJsonl)

    const csv = collect()
    await exportLog(db, { format: "csv" }, csv.sink)
    const rows = parse(csv.text(), { columns: true }) as Array<Record<string, string>>
    assert.deepEqual(Object.keys(rows[0]!), [...exportColumns])
    const fromCsv = rows.map((r) => fromExported(fromCsvRow(r)))
    assert.deepEqual(fromCsv, stored)
    hashesHold(fromCsv)
    rmSync(db, { force: true })
  }), { numRuns: 40 })
})

test("export --node and --since through the CLI", { timeout: 60_000 }, async () => {
  const db = join(dir, "cli.db")
  await Effect.runPromise(Effect.provide(Effect.gen(function* () {
    const store = yield* EventStore
    const meta = (ms: number) => ({ occurredAt: new Date(ms).toISOString(), actor: "admin", correlationId: "c", causationId: null })
    yield* store.append("node-6f1c2a3e-0000-4000-8000-000000000001", [{ type: "A", schemaVersion: 1, data: {}, meta: meta(1000) }], "no_stream")
    yield* store.append("node-6f1c2a3e-0000-4000-8000-000000000002", [{ type: "B", schemaVersion: 1, data: {}, meta: meta(2000) }], "no_stream")
    yield* store.append("node-6f1c2a3e-0000-4000-8000-000000000001", [{ type: "C", schemaVersion: 1, data: {}, meta: meta(3000) }], 0)
  }), makeSqliteEventStore(db)))
  const run = (...args: Array<string>) => promisify(execFile)("bin/ironledger", ["export", "--db", db, ...args], { encoding: "utf8" })
  const node = (await run("--node", "6f1c2a3e-0000-4000-8000-000000000001")).stdout.trim().split("\n").map((l) => JSON.parse(l).type)
  assert.deepEqual(node, ["A", "C"])
  const since = parse((await run("--format", "csv", "--since", "1970-01-01T00:00:02Z")).stdout, { columns: true }) as Array<Record<string, string>>
  assert.deepEqual(since.map((r) => r["type"]), ["B", "C"])
  await assert.rejects(run("--format", "xml"), /--format is jsonl or csv/)
})
