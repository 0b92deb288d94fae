// The EventStore and CheckpointStore contracts on a real PostgreSQL server that this file starts
// (and removes). Every layer gets a schema of its own, so each test sees an empty store. The server
// also speaks TLS: the store connects with full verification through the URL's sslmode/sslrootcert.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { Effect } from "effect"
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
