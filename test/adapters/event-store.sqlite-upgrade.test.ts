// A schema-1 file (no stream hashes) opened by this build: its events are kept as they are and the
// first new event of a stream chains onto the hashes those events would have had (ADR 0030).
import { after, test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import * as Effect from "effect/Effect"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { eventHash, streamHead } from "../../src/application/hash-chain.ts"
import { EventStore } from "../../src/ports/event-store.ts"
import { writeLegacyLog } from "../support/legacy-log.ts"
import { newEvent } from "./event-store.contract.ts"

const dir = mkdtempSync(join(tmpdir(), "ironledger-upgrade-"))
after(() => rmSync(dir, { recursive: true, force: true }))

test("a schema-1 log is upgraded in place: old events keep no hash, new ones chain onto them", async () => {
  const path = join(dir, "old.db")
  writeLegacyLog(path, [
    { streamId: "node-a", revision: 0, type: "Enrolled", data: { name: "a" } },
    { streamId: "node-b", revision: 0, type: "Enrolled", data: { name: "b" } },
    { streamId: "node-a", revision: 1, type: "Managed", data: {} },
  ])
  const [legacy, appended] = await Effect.runPromise(Effect.provide(EventStore.use((store) =>
    Effect.gen(function* () {
      const legacy = yield* store.readStream("node-a")
      yield* store.append("node-a", [newEvent("Provided", {}), newEvent("Inspected", { n: 1 })], 1)
      return [legacy, yield* store.readStream("node-a", 2)] as const
    })), makeSqliteEventStore(path)))
  assert.deepEqual(legacy.map((e) => e.hash), [undefined, undefined])
  assert.equal(appended[0]!.hash, eventHash(streamHead(legacy), appended[0]!))
  assert.equal(appended[1]!.hash, eventHash(appended[0]!.hash!, appended[1]!))
  const raw = new DatabaseSync(path, { readOnly: true })
  try {
    assert.equal(raw.prepare("PRAGMA user_version").get()?.["user_version"], 2)
  } finally {
    raw.close()
  }
})
