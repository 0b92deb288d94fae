// The SQLite log's write-ahead file is copied into the database in small steps (ADR 0198): each
// copy runs inside a commit, on the event loop, so a large one holds every request behind it.
import { after, test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { EventStore } from "../../src/ports/event-store.ts"
import { newEvent } from "./event-store.contract.ts"

const dir = mkdtempSync(join(tmpdir(), "ironledger-wal-"))
after(() => rmSync(dir, { recursive: true, force: true }))

test("appends of several megabytes never leave the WAL file past half a megabyte", async () => {
  const path = join(dir, "log.db")
  const padding = "x".repeat(8_000)
  let largest = 0
  await Effect.runPromise(Effect.provide(EventStore.use((store) =>
    Effect.gen(function* () {
      // 600 commits of two pages each: 1,200 pages, past SQLite's default of 1,000 between copies.
      for (let i = 0; i < 600; i++) {
        yield* store.append(`node-${i % 7}`, [newEvent("Noted", { padding })], "any")
        largest = Math.max(largest, statSync(`${path}-wal`).size)
      }
    })), makeSqliteEventStore(path)) as Effect.Effect<void, unknown>)
  assert.ok(largest > 0)
  assert.ok(largest < 512 * 1024, `the WAL file grew to ${largest} bytes`)
})
