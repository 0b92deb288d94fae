// Group commit in the SQLite store: appends arriving together share one transaction (one fsync),
// yet each is checked and answered on its own. Transactions are counted where SQLite records
// them: one commit frame per transaction in the file's write-ahead log.
import { after, describe, test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { makeSqliteEventStore, type SqliteStoreOptions } from "../../src/adapters/eventstore/sqlite.ts"
import { EventStore } from "../../src/ports/event-store.ts"
import { newEvent } from "./event-store.contract.ts"

const dir = mkdtempSync(join(tmpdir(), "ironledger-group-commit-"))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const newFile = () => join(dir, `store-${++files}.db`)

const withStore = <A, E>(path: string, body: (store: EventStore["Service"]) => Effect.Effect<A, E>, options?: SqliteStoreOptions) =>
  Effect.runPromise(Effect.provide(EventStore.use(body), makeSqliteEventStore(path, options)))

/** Runs `body` with a second, raw connection to the file (as another process would have). */
const withRaw = <A>(path: string, body: (raw: DatabaseSync) => A): A => {
  const raw = new DatabaseSync(path)
  try {
    return body(raw)
  } finally {
    raw.close()
  }
}

/** Checkpoints the WAL into the database and truncates it, so walCommits counts from zero. */
const emptyWal = (path: string) =>
  withRaw(path, (raw) => {
    const row = raw.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get()
    assert.equal(row?.["busy"], 0, "the checkpoint must not be blocked")
  })

/**
 * Transactions committed since the WAL was emptied: frames are [24-byte header, page]; a frame
 * whose second header word (the database size after commit) is non-zero ends a transaction.
 * Frames whose salt differs from the WAL header's are left over from before a restart.
 */
const walCommits = (path: string): number => {
  const wal = readFileSync(`${path}-wal`)
  if (wal.length < 32) return 0
  const pageSize = wal.readUInt32BE(8)
  const [salt1, salt2] = [wal.readUInt32BE(16), wal.readUInt32BE(20)]
  let commits = 0
  for (let offset = 32; offset + 24 + pageSize <= wal.length; offset += 24 + pageSize) {
    if (wal.readUInt32BE(offset + 8) !== salt1 || wal.readUInt32BE(offset + 12) !== salt2) break
    if (wal.readUInt32BE(offset + 4) !== 0) commits++
  }
  return commits
}

/**
 * Runs `count` appends at once and returns how many went into each group (in commit order). A
 * caller resumes right after its group's COMMIT, before the next group is written, so the commit
 * count it sees then is its group's number.
 */
const groupSizes = <E>(path: string, count: number, append: (i: number) => Effect.Effect<unknown, E>) =>
  Effect.forEach(
    Array.from({ length: count }, (_, i) => i),
    (i) => Effect.map(append(i), () => walCommits(path)),
    { concurrency: "unbounded" },
  ).pipe(
    Effect.map((groups) => {
      const sizes = new Array<number>(walCommits(path)).fill(0)
      for (const group of groups) sizes[group - 1]!++
      return sizes
    }),
  )

/** A fresh store file with a stream to write to; the WAL is emptied after setting it up. */
const prepared = async (options?: SqliteStoreOptions) => {
  const path = newFile()
  await withStore(path, (store) => store.append("setup", [newEvent("Setup", {})], "no_stream"), options)
  return path
}

describe("SQLite group commit", { timeout: 60_000 }, () => {
  test("a burst of 200 appends from concurrent fibers commits in one transaction; a lone append in one of its own", async () => {
    const path = await prepared()
    await withStore(path, (store) =>
      Effect.gen(function* () {
        emptyWal(path)
        yield* store.append("lone", [newEvent("Enrolled", {})], "no_stream")
        assert.equal(walCommits(path), 1, "a lone append is committed on its own, not held back for company")
        const results = yield* Effect.forEach(
          Array.from({ length: 200 }, (_, i) => i),
          (i) => store.append(`node-${i}`, [newEvent("Enrolled", { i })], "no_stream"),
          { concurrency: "unbounded" },
        )
        assert.ok(results.every((r) => r.nextExpectedRevision === 0))
        // Without group commit this is 201: one fsync per append.
        assert.equal(walCommits(path), 2, "the 200 appends share one commit")
        assert.equal((yield* store.readAll()).length, 202)
      }))
  })

  test("a group holds at most maxGroupAppends appends", async () => {
    const path = await prepared()
    await withStore(
      path,
      (store) =>
        Effect.gen(function* () {
          emptyWal(path)
          const sizes = yield* groupSizes(path, 200, (i) => store.append(`node-${i}`, [newEvent("Enrolled", { i })], "no_stream"))
          assert.ok(Math.max(...sizes) === 16, `groups of at most 16, and full ones while appends wait: ${sizes}`)
          assert.equal(sizes.reduce((a, b) => a + b), 200)
        }),
      { maxGroupAppends: 16 },
    )
  })

  test("a group holds at most maxGroupEvents events; an append with more commits alone, whole", async () => {
    const path = await prepared()
    await withStore(
      path,
      (store) =>
        Effect.gen(function* () {
          emptyWal(path)
          const sizes = yield* groupSizes(
            path,
            20,
            (i) => store.append(`batch-${i}`, [1, 2, 3].map((n) => newEvent("StepDone", { i, n })), "no_stream"),
          )
          assert.ok(Math.max(...sizes) === 3, `3-event appends in groups of at most 10 events: ${sizes}`)

          emptyWal(path)
          const big = Array.from({ length: 25 }, (_, n) => newEvent("ImageChunkWritten", { n }))
          const [, bigResult] = yield* Effect.all(
            [store.append("small", [newEvent("Enrolled", {})], "no_stream"), store.append("big", big, "no_stream")],
            { concurrency: "unbounded" },
          )
          assert.equal(bigResult.nextExpectedRevision, 24)
          assert.equal(walCommits(path), 2, "the 25-event append is a group of its own")
          assert.equal((yield* store.readStream("big")).length, 25)
        }),
      { maxGroupEvents: 10 },
    )
  })

  test("appends to one stream in one group apply in arrival order, each seeing the one before", async () => {
    const path = await prepared()
    await withStore(path, (store) =>
      Effect.gen(function* () {
        emptyWal(path)
        // Fiber i expects the revision fiber i-1 writes: only arrival order makes every one succeed.
        const results = yield* Effect.forEach(
          Array.from({ length: 10 }, (_, i) => i),
          (i) => store.append("node-chain", [newEvent("Step", { i })], i === 0 ? "no_stream" : i - 1),
          { concurrency: "unbounded" },
        )
        assert.deepEqual(results.map((r) => r.nextExpectedRevision), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        assert.equal(walCommits(path), 1)
        const stored = yield* store.readStream("node-chain")
        assert.deepEqual(stored.map((e) => (e.data as { i: number }).i), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      }))
  })

  test("a group mixing conflicting and valid appends commits the valid ones and fails the others alone", async () => {
    const path = await prepared()
    await withStore(path, (store) =>
      Effect.gen(function* () {
        emptyWal(path)
        const results = yield* Effect.forEach(
          [
            store.append("node-s", [newEvent("Enrolled", {}), newEvent("Inspected", {})], "no_stream"),
            store.append("node-s", [newEvent("Enrolled", { stale: true })], "no_stream"),
            store.append("node-s", [newEvent("Managed", {})], 1),
            store.append("node-t", [newEvent("Enrolled", {})], "no_stream"),
            store.append("node-s", [newEvent("Managed", { stale: true })], 1),
          ],
          Effect.result,
          { concurrency: "unbounded" },
        )
        assert.equal(walCommits(path), 1, "one transaction for the whole group")
        assert.deepEqual(
          results.map((r) =>
            r._tag === "Success"
              ? r.success.nextExpectedRevision
              : r.failure._tag === "WrongExpectedRevision"
              ? `${r.failure.expected}/${r.failure.actual}`
              : r.failure._tag
          ),
          [1, "no_stream/1", 2, 0, "1/2"],
        )
        const stored = yield* store.readStream("node-s")
        assert.deepEqual(stored.map((e) => [e.type, e.data]), [["Enrolled", {}], ["Inspected", {}], ["Managed", {}]])
        assert.equal((yield* store.readStream("node-t")).length, 1)
      }))
  })

  test("an append SQLite refuses half-way fails alone, with none of its events written", async () => {
    const path = await prepared()
    // A real refusal from SQLite on the second event of an append, after its first was inserted.
    withRaw(path, (raw) =>
      raw.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON events WHEN NEW.type = 'Poison'
                BEGIN SELECT RAISE(ABORT, 'poison refused'); END`))
    await withStore(path, (store) =>
      Effect.gen(function* () {
        emptyWal(path)
        const results = yield* Effect.forEach(
          [
            store.append("node-a", [newEvent("Enrolled", {})], "no_stream"),
            store.append("node-p", [newEvent("Enrolled", {}), newEvent("Poison", {})], "no_stream"),
            store.append("node-b", [newEvent("Enrolled", {})], "no_stream"),
          ],
          Effect.result,
          { concurrency: "unbounded" },
        )
        assert.deepEqual(results.map((r) => r._tag), ["Success", "Failure", "Success"])
        const refused = results[1]!
        assert.ok(refused._tag === "Failure" && refused.failure._tag === "StoreUnavailable")
        assert.match(refused.failure.message, /node-p.*poison refused/)
        assert.equal(walCommits(path), 1)
        assert.deepEqual(yield* store.readStream("node-p"), [], "the refused append's first event was undone")
        assert.equal((yield* store.readStream("node-a")).length, 1)
        assert.equal((yield* store.readStream("node-b")).length, 1)
      }))
  })

  test("a group that cannot take the write lock fails every append in it, and the next group commits", async () => {
    const path = await prepared()
    const holder = new DatabaseSync(path)
    try {
      await withStore(
        path,
        (store) =>
          Effect.gen(function* () {
            holder.exec("BEGIN IMMEDIATE") // another process's write transaction
            const blocked = yield* Effect.forEach(
              ["node-x", "node-y"],
              (streamId) => Effect.flip(store.append(streamId, [newEvent("Enrolled", {})], "no_stream")),
              { concurrency: "unbounded" },
            )
            for (const error of blocked) {
              assert.equal(error._tag, "StoreUnavailable")
              assert.match(error.message, /locked/)
            }
            holder.exec("ROLLBACK")
            yield* store.append("node-x", [newEvent("Enrolled", {})], "no_stream")
            assert.deepEqual((yield* store.readAll()).map((e) => e.streamId), ["setup", "node-x"])
          }),
        { busyTimeoutMs: 100 },
      )
    } finally {
      holder.close()
    }
  })

  test("an append whose caller is interrupted while it waits for its group is dropped; the rest of the group commits", async () => {
    const path = await prepared()
    await withStore(path, (store) =>
      Effect.gen(function* () {
        // startImmediately: each append is queued before the next line runs.
        const fork = (streamId: string) =>
          Effect.forkChild(store.append(streamId, [newEvent("Enrolled", {})], "no_stream"), { startImmediately: true })
        const kept = yield* fork("node-kept")
        const dropped = yield* fork("node-dropped")
        const alsoKept = yield* fork("node-also-kept")
        yield* Fiber.interrupt(dropped)
        assert.ok(Exit.hasInterrupts(yield* Fiber.await(dropped)))
        yield* Fiber.join(kept)
        yield* Fiber.join(alsoKept)
        assert.deepEqual((yield* store.readAll()).map((e) => e.streamId), ["setup", "node-kept", "node-also-kept"])
      }))
  })

  test("appends still queued when the store closes are written before the file is closed", async () => {
    const path = await prepared()
    const queued = await withStore(path, (store) =>
      Effect.forkDetach(store.append("node-late", [newEvent("Enrolled", {})], "no_stream"), { startImmediately: true }))
    // The layer's scope has closed; the append's fiber was answered from the drain.
    const exit = await Effect.runPromise(Fiber.await(queued).pipe(Effect.timeout("2 seconds")))
    assert.ok(Exit.isSuccess(exit), `the queued append succeeded, got ${String(exit)}`)
    assert.equal((await withStore(path, (store) => store.readStream("node-late"))).length, 1)
  })
})
