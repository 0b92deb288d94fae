// The EventStore and CheckpointStore contracts on a real PostgreSQL server that this file starts
// (and removes). Every layer gets a schema of its own, so each test sees an empty store. The server
// also speaks TLS: the store connects with full verification through the URL's sslmode/sslrootcert.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import * as Effect from "effect/Effect"
import { makePostgresEventStore } from "../../src/adapters/eventstore/postgres.ts"
import { parseStoreAddress, storeLayer } from "../../src/cli/store.ts"
import { EventStore } from "../../src/ports/event-store.ts"
import { startPostgres, postgresUnavailable, type PostgresServer } from "../support/postgres-server.ts"
import { checkpointStoreContract } from "./checkpoint-store.contract.ts"
import { eventStoreContract, newEvent } from "./event-store.contract.ts"

const skip = postgresUnavailable()
let server: PostgresServer | undefined
before(async () => { if (skip === undefined) server = await startPostgres({ tls: true }) })
after(async () => { await server?.destroy() })

let schemas = 0
eventStoreContract("PostgreSQL", () => makePostgresEventStore(server!.url, { schema: `contract_${++schemas}` }), {
  freshStorePerTest: true,
  streamOrder: true,
  skip,
})

checkpointStoreContract("PostgreSQL", () => {
  const schema = `checkpoints_${++schemas}`
  return { open: () => makePostgresEventStore(server!.url, { schema }) }
})

describe("PostgreSQL store over TLS, configured by its address", { skip }, () => {
  const appendAndCheck = (address: string) =>
    Effect.runPromise(Effect.provide(Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append("node-tls", [newEvent("Enrolled", {})], "any")
      return (yield* store.readStream("node-tls")).length
    }), storeLayer(parseStoreAddress(address))))

  test("sslmode=verify-full with the server's certificate as root: connects, appends, reads", async () => {
    const url = `${server!.url}?schema=tls&pool=2&statement_timeout=5000&connect_timeout=2&sslmode=verify-full&sslrootcert=${server!.caFile}`
    assert.ok((await appendAndCheck(url)) >= 1)
    // The connection really is encrypted: ask the server about our own backend.
    const encrypted = await Effect.runPromise(Effect.provide(Effect.gen(function* () {
      const store = yield* EventStore
      return yield* store.readAll({ limit: 1 })
    }), storeLayer(parseStoreAddress(url))))
    assert.equal(encrypted.length, 1)
    const { default: pg } = await import("pg")
    const client = new pg.Client({ connectionString: `${server!.url}?sslmode=verify-full&sslrootcert=${server!.caFile}` })
    await client.connect()
    try {
      const { rows } = await client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
      assert.equal(rows[0].ssl, true)
    } finally {
      await client.end()
    }
  })

  test("a certificate not signed by the given root is refused, and the error hides the password", async () => {
    // A real certificate for the same address, from another (self-signed) root.
    const otherRoot = `${server!.caFile}.other`
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", `${otherRoot}.key`, "-out", otherRoot], { stdio: "ignore" })
    const url = `${server!.url.replace("postgres@", "postgres:s3cret@")}?schema=tls&sslmode=verify-full&sslrootcert=${otherRoot}`
    const error = await appendAndCheck(url).then(() => undefined, (e: unknown) => e)
    assert.ok(error !== undefined, "must not connect")
    const message = String((error as Error).message ?? error)
    assert.match(message, /certificate|self.signed/i)
    assert.doesNotMatch(message, /s3cret/)
  })
})

describe("PostgreSQL store: group appends", { skip }, () => {
  const withStore = <A>(schema: string, body: (store: EventStore["Service"]) => Effect.Effect<A, unknown>) =>
    Effect.runPromise(Effect.provide(EventStore.use(body), makePostgresEventStore(server!.url, { schema, poolSize: 2 })))

  test("a burst of appends shares transactions, each append still checked on its own", () =>
    withStore("groups_burst", (store) =>
      Effect.gen(function* () {
        const results = yield* Effect.forEach(Array.from({ length: 100 }, (_, i) => i),
          (i) => Effect.result(store.append(i % 10 === 0 ? "node-contended" : `node-${i}`, [newEvent("Enrolled", { i }), newEvent("Inspected", { i })], "no_stream")),
          { concurrency: "unbounded" })
        // Exactly one of the ten appends to the contended stream wins, in arrival order: the first.
        const contended = results.filter((_, i) => i % 10 === 0)
        assert.deepEqual(contended.map((r) => r._tag), ["Success", ...Array(9).fill("Failure")])
        assert.ok(results.every((r, i) => i % 10 === 0 || r._tag === "Success"))
        const all = yield* store.readAll()
        assert.equal(all.length, 2 * 91)
        // The transaction id is a position's high part: 100 appends took far fewer transactions.
        const transactions = new Set(all.map((e) => Math.floor(e.position / 2 ** 20)))
        assert.ok(transactions.size <= 10, `100 appends in ${transactions.size} transactions`)
        // Within each stream, revisions and positions go up together.
        for (const stream of new Set(all.map((e) => e.streamId))) {
          const events = all.filter((e) => e.streamId === stream)
          assert.deepEqual(events.map((e) => e.revision), [0, 1])
        }
      })))

  test("an append the server refuses fails alone; the rest of its group is written", () =>
    withStore("groups_refused", (store) =>
      Effect.gen(function* () {
        // A NUL character: PostgreSQL's text type refuses it (SQLite would store it).
        const results = yield* Effect.forEach(Array.from({ length: 12 }, (_, i) => i),
          (i) => Effect.result(store.append(i === 5 ? "node-\u0000" : `node-${i}`, [newEvent("Enrolled", { i })], "no_stream")),
          { concurrency: "unbounded" })
        assert.deepEqual(results.map((r) => r._tag === "Failure" ? r.failure._tag : "ok"), results.map((_, i) => (i === 5 ? "StoreUnavailable" : "ok")))
        assert.deepEqual((yield* store.readAll()).map((e) => e.streamId).sort(), Array.from({ length: 12 }, (_, i) => `node-${i}`).filter((s) => s !== "node-5").sort())
      })))
})
