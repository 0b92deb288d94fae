// Runs the EventStore contract against every adapter. SQLite-only behaviour (a real file shared by
// several processes, surviving kill -9) is in event-store.sqlite.test.ts.
import { after } from "node:test"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { makeEsdbEventStore } from "../../src/adapters/eventstore/esdb.ts"
import { MemoryEventStore } from "../../src/adapters/eventstore/memory.ts"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { eventStoreContract } from "./event-store.contract.ts"

eventStoreContract("memory", () => MemoryEventStore, { freshStorePerTest: true, streamOrder: true })

const dir = mkdtempSync(join(tmpdir(), "ironledger-event-store-"))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
eventStoreContract("SQLite", () => makeSqliteEventStore(join(dir, `store-${++files}.db`)), { freshStorePerTest: true, streamOrder: true })
// Every read by stream from the start on the read ahead's worker thread (ADR 0208), however short the log.
eventStoreContract("SQLite, read by stream ahead", () => makeSqliteEventStore(join(dir, `store-${++files}.db`), { readAheadFrom: 0 }), {
  freshStorePerTest: true,
  streamOrder: true,
})

const url = process.env["EVENTSTORE_URL"]
eventStoreContract("EventStoreDB", () => makeEsdbEventStore(url ?? ""), {
  freshStorePerTest: false,
  streamOrder: false,
  skip: url
    ? undefined
    : "EVENTSTORE_URL is not set: no EventStoreDB server runs on this machine (set it, e.g. esdb://127.0.0.1:2113?tls=false, to run this suite)",
})
