// The SQLite store keeps checkpoint states in files beside the log (ADR 0165): the log's row only
// names the file, one file per projection survives a save, a row from before files still loads,
// and a checkpoint whose file is gone (a log copied without it) is no checkpoint rather than an error.
import { after, test } from "node:test"
import assert from "node:assert/strict"
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs"
import { DatabaseSync } from "node:sqlite"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { checkpointDirectory } from "../../src/adapters/eventstore/sqlite-checkpoints.ts"
import { CheckpointStore } from "../../src/ports/checkpoint-store.ts"

const dir = mkdtempSync(join(tmpdir(), "ironledger-checkpoint-files-"))
after(() => rmSync(dir, { recursive: true, force: true }))

const withCheckpoints = <A, E>(path: string, body: (c: CheckpointStore["Service"]) => Effect.Effect<A, E>) =>
  Effect.runPromise(Effect.provide(CheckpointStore.use(body), makeSqliteEventStore(path)))

const rowOf = (path: string, projection: string) => {
  const db = new DatabaseSync(path)
  try {
    return db.prepare("SELECT position, state FROM checkpoints WHERE projection = ?").get(projection)
  } finally {
    db.close()
  }
}

test("the log's row names the state's file; a save leaves one file per projection", async () => {
  const path = join(dir, "files.db")
  const big = JSON.stringify({ nodes: Array.from({ length: 5000 }, (_, i) => ({ id: `node-${i}` })) })
  await withCheckpoints(path, (c) => Effect.gen(function* () {
    yield* c.save("fleet", { position: 10, state: big })
    yield* c.save("fleet", { position: 20, state: `${big} ` })
    yield* c.save("other/odd name", { position: 5, state: "{}" })
  }))
  const row = rowOf(path, "fleet")
  assert.equal(row?.["position"], 20)
  assert.match(String(row?.["state"]), /^file:fleet\.20\.[0-9a-f]{8}\.json$/)
  const files = readdirSync(checkpointDirectory(path)).sort()
  assert.equal(files.length, 2, files.join(", "))
  assert.ok(files.some((f) => f.startsWith("other%2Fodd%20name.5.")), files.join(", "))
  const loaded = await withCheckpoints(path, (c) => c.load("fleet"))
  assert.deepEqual(loaded, Option.some({ position: 20, state: `${big} ` }))
})

test("a checkpoint row from before files holds the state itself and still loads", async () => {
  const path = join(dir, "legacy.db")
  await withCheckpoints(path, (c) => c.load("fleet"))
  const db = new DatabaseSync(path)
  db.prepare("INSERT INTO checkpoints (projection, position, state) VALUES (?, ?, ?)").run("fleet", 7, "{\"version\":6}")
  db.close()
  assert.deepEqual(await withCheckpoints(path, (c) => c.load("fleet")), Option.some({ position: 7, state: "{\"version\":6}" }))
})

test("a checkpoint whose file is gone is none, and the next save replaces it", async () => {
  const path = join(dir, "copied.db")
  await withCheckpoints(path, (c) => c.save("fleet", { position: 3, state: "{\"a\":1}" }))
  rmSync(checkpointDirectory(path), { recursive: true })
  assert.ok(Option.isNone(await withCheckpoints(path, (c) => c.load("fleet"))))
  await withCheckpoints(path, (c) => c.save("fleet", { position: 4, state: "{\"a\":2}" }))
  assert.deepEqual(await withCheckpoints(path, (c) => c.load("fleet")), Option.some({ position: 4, state: "{\"a\":2}" }))
})

test("a state written in pieces comes back whole, a character across a piece's edge included", async () => {
  const path = join(dir, "pieces.db")
  // "😀" is two UTF-16 units: after the opening quote and 2^20 - 2 letters, it straddles the first edge.
  const state = JSON.stringify(`${"x".repeat(2 ** 20 - 2)}😀é${"y".repeat(2 ** 20)}😀`)
  await withCheckpoints(path, (c) => c.save("fleet", { position: 1, state }))
  assert.deepEqual(await withCheckpoints(path, (c) => c.load("fleet")), Option.some({ position: 1, state }))
})

test("a temporary file abandoned by a process that died mid-save is removed by a later save; a fresh one is left", async () => {
  const path = join(dir, "abandoned.db")
  await withCheckpoints(path, (c) => c.save("fleet", { position: 1, state: "{}" }))
  const old = join(checkpointDirectory(path), "fleet.0.deadbeef.json.4242.tmp")
  const fresh = join(checkpointDirectory(path), "fleet.2.cafebabe.json.4243.tmp")
  writeFileSync(old, "{")
  writeFileSync(fresh, "{")
  const hourAgo = new Date(Date.now() - 3_600_000)
  utimesSync(old, hourAgo, hourAgo)
  await withCheckpoints(path, (c) => c.save("fleet", { position: 3, state: "{}" }))
  assert.ok(!existsSync(old), "the abandoned temporary file is gone")
  assert.ok(existsSync(fresh), "a temporary file another process may still be writing stays")
})

test("a projection whose name begins with another's keeps its file when the other saves (the fleet's base and delta)", async () => {
  const path = join(dir, "prefix.db")
  await withCheckpoints(path, (c) => Effect.gen(function* () {
    yield* c.save("fleet-delta", { position: 15, state: "{\"delta\":1}" })
    yield* c.save("fleet", { position: 10, state: "{\"base\":1}" })
    yield* c.save("fleet", { position: 20, state: "{\"base\":2}" })
  }))
  const loaded = await withCheckpoints(path, (c) => Effect.all([c.load("fleet"), c.load("fleet-delta")]))
  assert.deepEqual(loaded, [Option.some({ position: 20, state: "{\"base\":2}" }), Option.some({ position: 15, state: "{\"delta\":1}" })])
})
