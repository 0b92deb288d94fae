// The SQLite store's read by stream on a worker thread (ADR 0208), on real files: the same pages as
// the read on the one thread over a log of many pages, and a stored text that is not one JSON value
// failing the read on either path.
import { after, describe, test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import * as Effect from "effect/Effect"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { EventStore, type StreamOrderPage } from "../../src/ports/event-store.ts"
import { newEvent } from "./event-store.contract.ts"

const dir = mkdtempSync(join(tmpdir(), "ironledger-read-ahead-"))
after(() => rmSync(dir, { recursive: true, force: true }))

const onThread = { readAheadFrom: Infinity }
const ahead = { readAheadFrom: 0 }

const withStore = <A, E>(path: string, options: { readAheadFrom: number }, body: (store: EventStore["Service"]) => Effect.Effect<A, E>) =>
  Effect.runPromise(Effect.provide(EventStore.use(body), makeSqliteEventStore(path, options)))

/** Every page of a read by stream from the start, `limit` events to a page. */
const readPages = (store: EventStore["Service"], limit: number) =>
  Effect.gen(function* () {
    const pages: Array<StreamOrderPage> = [yield* store.readByStream!(null, limit)]
    while (pages[pages.length - 1]!.next !== null) pages.push(yield* store.readByStream!(pages[pages.length - 1]!.next, limit))
    return pages
  })

/** 40 streams of 1 to 120 events each, appended in rounds so that the streams interleave in the log. */
const writeLog = (path: string) =>
  withStore(path, onThread, (store) =>
    Effect.gen(function* () {
      const lengths = Array.from({ length: 40 }, (_, s) => 1 + ((s * 37) % 120))
      for (let round = 0; round < 120; round += 10) {
        for (const [s, length] of lengths.entries()) {
          const events = Array.from({ length: Math.max(0, Math.min(10, length - round)) }, (_, i) =>
            newEvent(`E${round + i}`, { s, n: round + i, text: "quote \" comma , bracket ] unicode \u00e9" }))
          if (events.length > 0) yield* store.append(`node-${String(s).padStart(3, "0")}`, events, round === 0 ? "no_stream" : round - 1)
        }
      }
    }))

describe("SQLite read by stream ahead on a worker thread", { timeout: 60_000 }, () => {
  test("gives the pages the one-thread read gives, over a log of many more pages than it reads ahead", async () => {
    const path = join(dir, "pages.db")
    await writeLog(path)
    for (const limit of [7, 500]) {
      const expected = await withStore(path, onThread, (store) => readPages(store, limit))
      const got = await withStore(path, ahead, (store) => readPages(store, limit))
      assert.ok(expected.length > (limit === 7 ? 100 : 1), `limit ${limit}: ${expected.length} pages`)
      assert.deepEqual(got, expected)
    }
  })

  test("a reader that stops half-way, then reads again from the start, gets the whole log", async () => {
    const path = join(dir, "half-way.db")
    await writeLog(path)
    const whole = await withStore(path, onThread, (store) => readPages(store, 50))
    const again = await withStore(path, ahead, (store) =>
      Effect.gen(function* () {
        const first = yield* store.readByStream!(null, 50)
        yield* store.readByStream!(first.next, 50)
        return yield* readPages(store, 50)
      }))
    assert.deepEqual(again, whole)
  })

  for (const [what, text] of [["a JSON text cut short", '{"s":1'], ["two JSON values", '{"s":1},{"s":2}'], ["nothing", ""]] as const) {
    test(`an event whose data is ${what} fails the read on either path, with StoreUnavailable`, async () => {
      const path = join(dir, `bad-${what.replace(/ /g, "-")}.db`)
      await writeLog(path)
      const raw = new DatabaseSync(path)
      raw.prepare("UPDATE events SET data = ? WHERE stream_id = 'node-011' AND revision = 3").run(text)
      raw.close()
      for (const options of [onThread, ahead]) {
        const failed = await withStore(path, options, (store) => Effect.flip(readPages(store, 50)))
        assert.equal(failed._tag, "StoreUnavailable", `readAheadFrom ${options.readAheadFrom}`)
        assert.match(failed.message, /read the log by stream/)
      }
    })
  }
})
