// The service on PostgreSQL, end to end with real processes: a log begun on SQLite is copied with
// `ironledger migrate` (and verified, and a second run carries on without copying twice), then an
// API (`serve --store postgres://...`) and two `conductor --store ...` processes deploy its nodes.
// Mid-deploy the PostgreSQL server goes down for a while: the API answers 503 at once, the
// conductors pause, and once it is back every node ends active with the log's leases in order.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { promisify } from "node:util"
import * as Effect from "effect/Effect"
import { makePostgresEventStore } from "../../src/adapters/eventstore/postgres.ts"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { EventStore, type StoredEvent } from "../../src/ports/index.ts"
import { postgresUnavailable, startPostgres, type PostgresServer } from "../support/postgres-server.ts"
import {
  auditLeases, mac, makeApi, repeatedRequests, spawnIronledger, stop, stopAll, unanswered, waitForOutput,
} from "./conductor-harness.ts"

const run = promisify(execFile)
const ironledger = resolve(import.meta.dirname, "../../bin/ironledger")
const NODES = 6
const skip = postgresUnavailable()

let dir: string
let server: PostgresServer | undefined
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ironledger-pg-e2e-"))
  if (skip === undefined) server = await startPostgres({ settings: { synchronous_commit: "on" } })
})
after(async () => {
  await stopAll()
  await server?.destroy()
  rmSync(dir, { recursive: true, force: true })
})

const readPostgresLog = (url: string, schema: string): Promise<ReadonlyArray<StoredEvent>> =>
  Effect.runPromise(Effect.provide(Effect.gen(function* () { return yield* (yield* EventStore).readAll() }), makePostgresEventStore(url, { schema })))

describe("the service on PostgreSQL", { skip, timeout: 150_000 }, () => {
  test("migrate a SQLite log, then deploy its nodes with an API and two conductors through a PostgreSQL outage", async () => {
    // 1. A log begun on SQLite: nodes enrolled and made manageable by a service with its conductor.
    const db = join(dir, "old.db")
    const sqliteApi = spawnIronledger("serve sqlite", ["serve", "--db", db, "--port", "0"])
    let api = makeApi((await waitForOutput(sqliteApi, /listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!)
    const uuids: Array<string> = []
    for (let i = 0; i < NODES; i++) uuids.push(await api.enroll(`pg-${i}`, mac(i)))
    await Promise.all(uuids.map((u) => api.provision(u, "manage")))
    await api.settle(uuids, ["manageable"], 30_000)
    await stop(sqliteApi)

    // 2. Copied to PostgreSQL and verified; a second run finds it all there.
    const url = `${server!.url}?schema=fleet`
    const first = await run(ironledger, ["migrate", "--from", `sqlite:${db}`, "--to", url])
    const copied = /copied (\d+) events, verified (\d+) events equal and in order/.exec(first.stdout)
    assert.ok(copied !== null, first.stdout + first.stderr)
    assert.equal(copied[1], copied[2])
    assert.ok(Number(copied[1]) > NODES * 3)
    const again = await run(ironledger, ["migrate", "--from", `sqlite:${db}`, "--to", url])
    assert.match(again.stdout, new RegExp(`copied 0 events \\(${copied[1]} were there already\\), verified ${copied[1]} events`))
    // A log that is not a prefix of the target's is refused, and nothing is added to the target.
    const other = join(dir, "other.db")
    await Effect.runPromise(Effect.provide(Effect.gen(function* () {
      yield* (yield* EventStore).append("node-elsewhere", [{ type: "NodeEnrolled", schemaVersion: 1, data: { name: "elsewhere" },
        meta: { occurredAt: new Date().toISOString(), actor: "test", correlationId: "c", causationId: null } }], "no_stream")
    }), makeSqliteEventStore(other)))
    const refused = await run(ironledger, ["migrate", "--from", `sqlite:${other}`, "--to", url]).then(() => "accepted", (e: { stderr: string }) => e.stderr)
    assert.match(refused, /copy refused: the target already holds other events/)
    assert.equal((await readPostgresLog(server!.url, "fleet")).length, Number(copied[1]))

    // 3. The API and two conductors on PostgreSQL, sharing the key the SQLite service sealed secrets with.
    const common = ["--store", url, "--key-file", `${db}.key`, "--state-dir", join(dir, "state")]
    const apiProc = spawnIronledger("serve pg", ["serve", ...common, "--port", "0", "--no-conductor"])
    const apiUrl = (await waitForOutput(apiProc, /listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!
    assert.match(apiProc.output(), /log: postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres\?schema=fleet/)
    api = makeApi(apiUrl)
    for (const name of ["pg-a", "pg-b"]) {
      const conductor = spawnIronledger(`conductor ${name}`, ["conductor", ...common, "--name", name, "--api-url", apiUrl, "--lease-ttl", "5000", "--sweep", "250"])
      await waitForOutput(conductor, new RegExp(`conductor ${name} driving nodes`))
    }
    assert.equal(((await api.ok("GET", "/v1/nodes"))["nodes"] as Array<unknown>).length, NODES, "the migrated nodes are served")

    await Promise.all(uuids.map((u) => api.provision(u, "provide")))
    await api.settle(uuids, ["available"], 30_000)
    await Promise.all(uuids.map((u) => api.provision(u, "active")))

    // 4. PostgreSQL goes away mid-deploy: requests fail fast with 503, then everything carries on.
    await new Promise((r) => setTimeout(r, 300))
    await server!.stop()
    const started = Date.now()
    const refusedCreate = await api.call("POST", "/v1/nodes", { name: "while-down", driver: "fake-hardware" })
    assert.equal(refusedCreate.status, 503)
    assert.ok(Date.now() - started < 3000, `503 within 3 s (took ${Date.now() - started} ms)`)
    await new Promise((r) => setTimeout(r, 1500))
    await server!.start()

    const nodes = await api.settle(uuids, ["active", "deploy failed"], 60_000)
    assert.deepEqual(nodes.filter((n) => n["provision_state"] !== "active").map((n) => `${n["name"]}: ${n["last_error"]}`), [])
    const log = await readPostgresLog(server!.url, "fleet")
    assert.equal(log.filter((e) => e.data !== null && (e.data as { name?: string }).name === "while-down").length, 0, "the refused create left nothing")
    // The audit commands read the PostgreSQL log directly too.
    const replayed = await run(ironledger, ["replay", "--db", url, "--json"])
    const report = JSON.parse(replayed.stdout) as { nodes: number; countsByState: Record<string, number> }
    assert.equal(report.countsByState["active"], NODES)
    const history = await run(ironledger, ["history", uuids[0]!, "--db", url, "--json"])
    assert.ok((JSON.parse(history.stdout) as Array<{ event: string }>).some((e) => e.event === "DeployDone"))
    const audit = auditLeases(log)
    assert.deepEqual(audit.violations, [])
    for (const uuid of uuids) {
      const stream = log.filter((e) => e.streamId === `node-${uuid}`)
      assert.deepEqual(unanswered(stream), [], `node ${uuid}`)
      assert.deepEqual(repeatedRequests(stream), [], `node ${uuid}`)
    }
  })
})
