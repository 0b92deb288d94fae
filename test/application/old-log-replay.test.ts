// A log written by ironledger 0.1 (test/fixtures/log-0.1, made by that version's own service)
// still decodes and replays to the same states. Its "fake-hardware" nodes were simulated machines
// with a simulated ramdisk: they are read as "sim" nodes (ADR 0011) and go on working as such.
import { test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { EventStore, type StoredEvent } from "../../src/ports/index.ts"
import { startTestApp } from "../support/app.ts"

const fixture = join(import.meta.dirname, "../fixtures/log-0.1")
const events = readFileSync(join(fixture, "log.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as StoredEvent)
const expected = JSON.parse(readFileSync(join(fixture, "states.json"), "utf8")) as Record<string, {
  name: string; driver: string; provisionState: string; powerState: string | null; maintenance: boolean; deleted: boolean; revision: number; ports: number
}>

test("a log written by version 0.1 replays to the states that version recorded; its fake-hardware nodes are sim nodes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ironledger-oldlog-"))
  const stores = makeSqliteEventStore(join(dir, "log.sqlite"))
  try {
    // The stored events, appended as they were: same streams, order, types, versions and data.
    await Effect.runPromise(Effect.provide(Effect.gen(function* () {
      const store = yield* EventStore
      for (const e of events) {
        yield* store.append(e.streamId, [{ type: e.type, schemaVersion: e.schemaVersion, data: e.data, meta: e.meta }], e.revision === 0 ? "no_stream" : e.revision - 1)
      }
    }), stores))
    assert.ok(events.some((e) => e.type === "Enrolled" && e.schemaVersion === 1 && (e.data as { driver: string }).driver === "fake-hardware"))
    const app = await startTestApp({ stores })
    try {
      for (const [uuid, was] of Object.entries(expected)) {
        const n = app.fleet.nodes.get(uuid)
        assert.ok(n !== undefined, `${was.name} was not replayed`)
        assert.deepEqual(
          { name: n.name, provisionState: n.provisionState, powerState: n.powerState, maintenance: n.maintenance, deleted: n.deleted, revision: n.revision, ports: n.ports.length },
          { name: was.name, provisionState: was.provisionState, powerState: was.powerState, maintenance: was.maintenance, deleted: was.deleted, revision: was.revision, ports: was.ports },
        )
        assert.equal(n.driver, was.driver === "fake-hardware" ? "sim" : was.driver)
      }
      // The replayed active node carries on under sim: it tears down and cleans through its simulated ramdisk.
      const active = Object.entries(expected).find(([, s]) => s.provisionState === "active")![0]
      await app.run(app.service.provision(active, "deleted", {}, "test"))
      const available = await app.waitFor(active, "available")
      assert.equal(available.driver, "sim")
      assert.equal(available.interfaces.deploy, "sim-iscsi")
    } finally {
      await app.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
