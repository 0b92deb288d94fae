// A conductor that shuts down hands back the leases it holds, so others need not wait them out.
import { test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { execute } from "../../src/application/execute.ts"
import { streamOf } from "../../src/application/event-codec.ts"
import { EventStore } from "../../src/ports/index.ts"
import { startTestApp } from "../support/app.ts"

// The nodes sit in enroll, where the conductor has nothing to do, so only the shutdown can hand their leases back.
test("on shutdown the conductor releases the leases it holds, and only those", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ironledger-lease-"))
  try {
    const db = join(dir, "store.sqlite")
    const app = await startTestApp({ stores: makeSqliteEventStore(db), conductor: { name: "conductor-x" } })
    const enroll = (name: string) => app.run(app.service.enroll({
      name: name as never, driver: "fake-hardware", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {},
    }, "test"))
    const mine = await enroll("held-by-me")
    const theirs = await enroll("held-by-other")
    const lease = (nodeId: string, holder: string) => app.run(execute(app.fleet, nodeId, {
      type: "AcquireLease", holder, now: new Date().toISOString(), expiresAt: new Date(Date.now() + 600_000).toISOString(),
    }, { actor: holder, correlationId: "lease-test", causationId: null, occurredAt: new Date().toISOString() }))
    await lease(mine.uuid, "conductor-x")
    await lease(theirs.uuid, "conductor-y")
    await app.close()
    const types = (nodeId: string) => Effect.runPromise(Effect.provide(
      Effect.gen(function* () {
        return (yield* (yield* EventStore).readStream(streamOf(nodeId))).map((e) => e.type)
      }),
      makeSqliteEventStore(db),
    ))
    assert.deepEqual((await types(mine.uuid)).slice(-2), ["LeaseAcquired", "LeaseReleased"])
    assert.equal((await types(theirs.uuid)).at(-1), "LeaseAcquired")
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
