// The PostgreSQL store across a server restart: appends fail fast while the server is down, a live
// subscription pauses and resumes without losing or repeating an event (its LISTEN connection is
// rebuilt, not just its poll), and a crash in the middle of a burst of appends leaves only whole
// appends, every acknowledged one among them.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { makePostgresEventStore, type PostgresStoreOptions } from "../../src/adapters/eventstore/postgres.ts"
import { EventStore, type StoredEvent } from "../../src/ports/event-store.ts"
import { postgresUnavailable, startPostgres, type PostgresServer } from "../support/postgres-server.ts"
import { newEvent } from "./event-store.contract.ts"

const skip = postgresUnavailable()
let server: PostgresServer | undefined
const scope = Effect.runSync(Scope.make())
// synchronous_commit on (the default, and what production needs): an acknowledged commit is in the
// WAL on disk, so it survives the crash below; the test servers' "off" would lose the last ones.
before(async () => { if (skip === undefined) server = await startPostgres({ settings: { synchronous_commit: "on" } }) })
after(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await server?.destroy()
})

const open = async (options: PostgresStoreOptions) =>
  Context.get(await Effect.runPromise(Layer.buildWithScope(makePostgresEventStore(server!.url, options), scope)), EventStore)

const until = async (what: string, done: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe("PostgreSQL store across a server restart", { skip, timeout: 60_000 }, () => {
  test("a live subscription pauses while the server is down and resumes on LISTEN, nothing lost or repeated", async () => {
    // The poll is an hour: whatever arrives after the restart came through the rebuilt LISTEN.
    const store = await open({ schema: "restart_live", pollIntervalMs: 3_600_000, maxRetryPauseMs: 200 })
    const other = await open({ schema: "restart_live" }) // another host's process
    const seen: Array<StoredEvent> = []
    const subscriber = Effect.runFork(store.subscribeAll().pipe(Stream.runForEach((e) => Effect.sync(() => { seen.push(e) }))))
    try {
      await Effect.runPromise(store.append("node-1", [newEvent("Before", {})], "no_stream"))
      await until("the first event", () => seen.length === 1)

      await server!.stop()
      const started = Date.now()
      const down = await Effect.runPromise(Effect.flip(store.append("node-1", [newEvent("WhileDown", {})], 0)))
      assert.equal(down._tag, "StoreUnavailable")
      assert.ok(Date.now() - started < 2000, `an append fails fast while the server is down (took ${Date.now() - started} ms)`)
      await new Promise((resolve) => setTimeout(resolve, 300)) // the subscription retries meanwhile

      await server!.start()
      // The other process appends: only a NOTIFY on a rebuilt LISTEN can bring it within the hour.
      let appended = false
      for (let i = 0; i < 50 && !appended; i++) {
        const result = await Effect.runPromise(Effect.result(other.append("node-1", [newEvent("AfterRestart", {})], 0)))
        if (result._tag === "Success") appended = true
        else await new Promise((resolve) => setTimeout(resolve, 100))
      }
      assert.ok(appended, "appends work again once the server is back")
      await until("the event appended after the restart", () => seen.length === 2)
      await Effect.runPromise(other.append("node-2", [newEvent("Later", {})], "no_stream"))
      await until("a later event from the other process", () => seen.length === 3)
      await new Promise((resolve) => setTimeout(resolve, 100))
      assert.deepEqual(seen.map((e) => e.type), ["Before", "AfterRestart", "Later"])
    } finally {
      await Effect.runPromise(Fiber.interrupt(subscriber))
    }
  })

  test("a crash during a burst of appends leaves whole appends only, every acknowledged one kept", async () => {
    const store = await open({ schema: "restart_crash", poolSize: 8 })
    const acked = new Map<string, number>() // stream -> last acknowledged revision
    let crashing = false
    const appender = async (k: number) => {
      const streamId = `node-${k}`
      let expected: "no_stream" | number = "no_stream"
      while (!crashing) {
        const result = await Effect.runPromise(Effect.result(store.append(streamId, [newEvent("A", {}), newEvent("B", {}), newEvent("C", {})], expected)))
        if (result._tag === "Failure") return
        const last: number = result.success.nextExpectedRevision
        expected = last
        acked.set(streamId, last)
      }
    }
    const running = Array.from({ length: 16 }, (_, k) => appender(k))
    await until("some appends", () => [...acked.values()].reduce((a, b) => a + b, 0) > 300)
    await server!.stop("immediate") // the postmaster and every backend die at once, as in a crash
    crashing = true
    await Promise.all(running)
    await server!.start()
    let all: ReadonlyArray<StoredEvent> = []
    for (let i = 0; i < 50; i++) {
      const read = await Effect.runPromise(Effect.result(store.readAll()))
      if (read._tag === "Success") { all = read.success; break }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const byStream = new Map<string, Array<StoredEvent>>()
    for (const e of all) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e])
    for (const [streamId, events] of byStream) {
      assert.equal(events.length % 3, 0, `${streamId} holds whole appends only`)
      assert.deepEqual(events.map((e) => e.revision), events.map((_, i) => i))
      events.forEach((e, i) => assert.equal(e.type, ["A", "B", "C"][i % 3]))
    }
    for (const [streamId, last] of acked) {
      assert.ok((byStream.get(streamId)?.length ?? 0) >= last + 1, `${streamId}: every acknowledged append survived`)
    }
  })
})
