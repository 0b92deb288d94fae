// The EventStore and CheckpointStore contracts on a real PostgreSQL server that this file starts
// (and removes). Every layer gets a schema of its own, so each test sees an empty store.
import { after, before } from "node:test"
import { makePostgresEventStore } from "../../src/adapters/eventstore/postgres.ts"
import { startPostgres, postgresUnavailable, type PostgresServer } from "../support/postgres-server.ts"
import { checkpointStoreContract } from "./checkpoint-store.contract.ts"
import { eventStoreContract } from "./event-store.contract.ts"

const skip = postgresUnavailable()
let server: PostgresServer | undefined
before(async () => { if (skip === undefined) server = await startPostgres() })
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
