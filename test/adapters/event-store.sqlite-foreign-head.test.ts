// Reads served from the projection (ADR 0150): the SQLite store tells, per read and without a query
// of the events, how far other connections have written; a node read then sees another process's
// write at once, and this process's own writes without a store read.
import { after, test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type { NodeCommand, Uuid } from "../../src/domain/index.ts"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { currentNode, currentNodeNow, execute } from "../../src/application/execute.ts"
import { Fleet } from "../../src/application/projections/fleet.ts"
import { EventStore } from "../../src/ports/event-store.ts"
import { newEvent } from "./event-store.contract.ts"

const dir = mkdtempSync(join(tmpdir(), "ironledger-foreign-head-"))
after(() => rmSync(dir, { recursive: true, force: true }))

const open = (path: string) => Effect.map(Layer.build(makeSqliteEventStore(path)), (c) => Context.get(c, EventStore))

test("foreignHead moves with other connections' commits only", async () => {
  await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
    const path = join(dir, "head.db")
    const mine = yield* open(path)
    const other = yield* open(path)
    assert.equal(yield* mine.foreignHead!(), -1)
    yield* mine.append("node-a", [newEvent("Mine", {})], "no_stream")
    assert.equal(yield* mine.foreignHead!(), -1, "this connection's own append is not foreign")
    const theirs = yield* other.append("node-b", [newEvent("Other", {}), newEvent("Other", {})], "no_stream")
    assert.equal(yield* mine.foreignHead!(), theirs.position)
    yield* mine.append("node-a", [newEvent("Mine", {})], 0)
    assert.equal(yield* mine.foreignHead!(), theirs.position)
    const again = yield* other.append("node-b", [newEvent("Other", {})], 1)
    assert.equal(yield* mine.foreignHead!(), again.position)
    // The other side learns of mine (position again - 1); the head it reads may include its own.
    const seenByOther = yield* other.foreignHead!()
    assert.ok(seenByOther >= again.position - 1 && seenByOther <= again.position, String(seenByOther))
  })))
})

const ctx = { actor: "test", correlationId: "c-1", causationId: null, occurredAt: "2026-01-01T00:00:00.000Z" }
const nodeId = "6f1c2b9e-0d7a-4c55-9a43-2f1e8f0c1a01"
const enroll: NodeCommand = { type: "Enroll", nodeId: nodeId as Uuid, name: null, driver: "fake-hardware", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {} }

test("a node read comes from the fleet when it holds every other writer's events, else from the stream", async () => {
  await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
    const path = join(dir, "reads.db")
    // Opened first: its schema check is a commit, which would count as another writer's news.
    const other = yield* open(path)
    const mine = yield* open(path)
    let streamReads = 0
    const counted: EventStore["Service"] = { ...mine, readStream: (...args) => { streamReads++; return mine.readStream(...args) } }
    const fleet = new Fleet()
    const read = () => Effect.provideService(currentNode(fleet, nodeId), EventStore, counted)
    // The API's reads (ADR 0192): the node at the call while the fleet is current, else nothing.
    const revisionNow = () => {
      const now = currentNodeNow(fleet, counted, nodeId)
      return now === undefined ? "behind" : Exit.isSuccess(now) ? now.value?.revision : "failed"
    }

    // This process's own write is folded in as it is made: read back with no store read.
    yield* Effect.provideService(execute(fleet, nodeId, enroll, ctx), EventStore, mine)
    assert.equal((yield* read())?.revision, 0)
    assert.equal(revisionNow(), 0)
    assert.equal(streamReads, 0)

    // Another process writes to the node: the next read sees it, through the stream.
    const theirFleet = new Fleet()
    yield* Effect.provideService(execute(theirFleet, nodeId, { type: "SetMaintenance", on: true, reason: "theirs" }, ctx), EventStore, other)
    assert.equal(revisionNow(), "behind")
    const seen = yield* read()
    assert.equal(seen?.revision, 1)
    assert.equal(seen?.maintenance, true)
    assert.equal(streamReads, 1)

    // Once the fleet's follower has folded through the other writer's last event, reads are free again.
    fleet.position = yield* mine.foreignHead!()
    assert.equal((yield* read())?.maintenance, true)
    assert.equal(revisionNow(), 1)
    assert.equal(streamReads, 1)
  })))
})
