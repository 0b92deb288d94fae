// `ironledger verify` and `checkpoints` as an auditor runs them (no service), including a log
// begun before stream hashes existed: its old events are covered from the first checkpoint on.
import { after, test } from "node:test"
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import { generateKeyPairSync } from "node:crypto"
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import * as Effect from "effect/Effect"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { loadCheckpointSigner } from "../../src/adapters/system/checkpoint-keys.ts"
import { makeNotary } from "../../src/application/notary.ts"
import { checkpointStatement } from "../../src/application/hash-chain.ts"
import { EventStore } from "../../src/ports/index.ts"
import { newEvent } from "../adapters/event-store.contract.ts"
import { writeLegacyLog } from "../support/legacy-log.ts"

const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "ironledger-verify-"))
after(() => rmSync(dir, { recursive: true, force: true }))

const cli = (...args: Array<string>) => {
  const run = spawnSync("bin/ironledger", args, { encoding: "utf8" })
  return { code: run.status, out: run.stdout, err: run.stderr }
}

const keys = () => {
  const pair = generateKeyPairSync("ed25519")
  const privateKey = join(dir, "notary.pem"), publicKey = join(dir, "notary.pub")
  writeFileSync(privateKey, pair.privateKey.export({ type: "pkcs8", format: "pem" }))
  writeFileSync(publicKey, pair.publicKey.export({ type: "spki", format: "pem" }))
  return { privateKey, publicKey }
}

test("a log begun before stream hashes verifies, and a changed old event is caught by a checkpoint", async () => {
  const { privateKey, publicKey } = keys()
  const db = join(dir, "legacy.db")
  writeLegacyLog(db, [
    { streamId: "node-a", revision: 0, type: "Enrolled", data: { name: "a" } },
    { streamId: "node-b", revision: 0, type: "Enrolled", data: { name: "b" } },
    { streamId: "node-a", revision: 1, type: "Managed", data: {} },
  ])
  const notary = makeNotary({ every: 100, intervalMs: 1000, statement: checkpointStatement, signer: loadCheckpointSigner(privateKey) })
  await Effect.runPromise(Effect.provide(Effect.gen(function* () {
    const store = yield* EventStore
    yield* store.append("node-a", [newEvent("Provided", {})], 1)
    yield* notary.tick
    yield* store.append("node-b", [newEvent("Managed", {})], 0)
    yield* notary.tick
  }), makeSqliteEventStore(db)))

  const ok = cli("verify", "--db", db, "--public-key", publicKey)
  assert.equal(ok.code, 0, ok.err)
  assert.match(ok.out, /3 events from before stream hashes/)
  assert.match(ok.out, /verified/)

  const exported = join(dir, "checkpoints.jsonl")
  assert.equal(cli("checkpoints", "--db", db, "--out", exported).code, 0)

  // Node b's first event predates hashing and nothing after it in its stream... but the notary's chain holds it.
  const copy = join(dir, "legacy-tampered.db")
  copyFileSync(db, copy)
  const raw = new DatabaseSync(copy)
  raw.prepare("UPDATE events SET data = ? WHERE position = 2").run(JSON.stringify({ name: "forged" }))
  raw.close()
  const caught = cli("verify", "--db", copy, "--checkpoints", exported)
  assert.equal(caught.code, 1)
  assert.match(caught.err, /does not verify/)
  // Node b's next event was hashed onto the old one: the stream chain names the event after it.
  assert.match(caught.out, /node-b@1 \(Managed\) at position 6 does not match its stream hash/)
  assert.match(caught.out, /does not match checkpoint at position 4/)
})

test("verify says what is wrong with its inputs", () => {
  const missing = cli("verify", "--db", join(dir, "nope.db"))
  assert.equal(missing.code, 1)
  assert.match(missing.err, /does not exist/)
  assert.equal(cli("verify").code, 2)
  const notJson = join(dir, "bad.jsonl")
  writeFileSync(notJson, "{\"position\": 1}\n")
  const db = join(dir, "empty.db")
  writeLegacyLog(db, [])
  const bad = cli("verify", "--db", db, "--checkpoints", notJson)
  assert.equal(bad.code, 2)
  assert.match(bad.err, /bad.jsonl:1: not a checkpoint/)
})
