// A node whose cleaning failed before its clean-up (power off, PXE config removed) was carried out,
// e.g. because the conductor stopped, is cleaned up by the sweep of the next conductor.
import { test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { execute } from "../../src/application/execute.ts"
import { Fleet } from "../../src/application/projections/fleet.ts"
import type { NodeCommand } from "../../src/domain/index.ts"
import { startTestApp } from "../support/app.ts"

const nodeId = "0b7e4c1a-5d2f-4e8a-9c3b-6a1d2e3f4a5b"

test("the sweep takes up the clean-up of a node left in clean failed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ironledger-clean-failed-"))
  try {
    const db = join(dir, "store.sqlite")
    // An earlier life of the service: the cleaning failed, then the process stopped.
    const fleet = new Fleet()
    const ctx = { actor: "earlier", correlationId: "op-1", causationId: null, occurredAt: "2026-11-21T12:00:00.000Z" }
    const commands: ReadonlyArray<NodeCommand> = [
      { type: "Enroll", nodeId: nodeId as never, name: null, driver: "sim", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {} },
      { type: "Provision", verb: "manage" },
      { type: "Complete" },
      { type: "Provision", verb: "provide" },
      { type: "Fail", error: "the cleaning ramdisk never came up" },
    ]
    await Effect.runPromise(Effect.provide(
      Effect.forEach(commands, (c) => execute(fleet, nodeId, c, ctx), { discard: true }),
      makeSqliteEventStore(db),
    ))
    const app = await startTestApp({ stores: makeSqliteEventStore(db), conductor: { sweepIntervalMs: 50 } })
    try {
      const deadline = Date.now() + 5000
      let events: ReadonlyArray<string> = []
      while (!events.includes("BootConfigWritten") && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20))
        events = (await app.run(app.service.history(nodeId, { limit: 100 }))).map((e) => e.event)
      }
      assert.deepEqual(events.slice(events.indexOf("CleaningFailed"), events.indexOf("CleaningFailed") + 6), [
        "CleaningFailed", "LeaseAcquired", "PowerOffRequested", "PowerStateChanged", "BootConfigRequested", "BootConfigWritten",
      ])
      const node = await app.run(app.service.get(nodeId))
      assert.equal(node.provisionState, "clean failed")
      assert.equal(node.powerState, "power off")
    } finally {
      await app.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
