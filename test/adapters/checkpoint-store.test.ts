// Runs the CheckpointStore contract against every adapter.
import { after } from "node:test"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Layer from "effect/Layer"
import { CheckpointStore } from "../../src/ports/checkpoint-store.ts"
import { makeMemoryCheckpointStore } from "../../src/adapters/eventstore/memory.ts"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { checkpointStoreContract } from "./checkpoint-store.contract.ts"

checkpointStoreContract("memory", () => {
  const store = makeMemoryCheckpointStore()
  return { open: () => Layer.succeed(CheckpointStore, store) }
})

const dir = mkdtempSync(join(tmpdir(), "ironledger-checkpoints-"))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
checkpointStoreContract("SQLite", () => {
  const path = join(dir, `store-${++files}.db`)
  return { open: () => makeSqliteEventStore(path) }
})
