// Tamper evidence (ADR 0030), over random logs written by the SQLite store and the notary: an
// untouched copy verifies; editing, deleting, inserting or swapping one event makes `verify` fail
// and name it, and so does a tamperer who recomputes every later hash, against checkpoints
// exported before the tampering (or signed with a key the tamperer does not have), and, against
// an earlier export of the events with their hashes, the event itself is named.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { generateKeyPairSync } from "node:crypto"
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import * as Effect from "effect/Effect"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { loadCheckpointSigner } from "../../src/adapters/system/checkpoint-keys.ts"
import { makeNotary } from "../../src/application/notary.ts"
import type { Finding, VerifyReport } from "../../src/application/verify-log.ts"
import { exportCheckpoints, verifyLogFile } from "../../src/cli/commands/verify.ts"
import { exportLog } from "../../src/cli/commands/fleet-export.ts"
import { checkpointStatement } from "../../src/application/hash-chain.ts"
import { EventStore } from "../../src/ports/index.ts"
import { readRows, recomputeHashes, tamper, writeRows, type Tampering } from "../support/tamper.ts"

// tmpfs when there is one: the store fsyncs every commit, and these files are thrown away.
const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "ironledger-tamper-"))
let files = 0
const file = (name: string) => join(dir, `${++files}-${name}`)
let privateKey = "", publicKey = ""

before(() => {
  const pair = generateKeyPairSync("ed25519")
  privateKey = join(dir, "notary.pem")
  publicKey = join(dir, "notary.pub")
  writeFileSync(privateKey, pair.privateKey.export({ type: "pkcs8", format: "pem" }))
  writeFileSync(publicKey, pair.publicKey.export({ type: "spki", format: "pem" }))
})
after(() => rmSync(dir, { recursive: true, force: true }))

interface Step {
  readonly stream: number
  readonly types: ReadonlyArray<string>
  /** Run the notary after this append. */
  readonly notarise: boolean
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  stream: fc.integer({ min: 0, max: 3 }),
  types: fc.array(fc.constantFrom("Enrolled", "Managed", "PowerStateChanged", "DeployStarted"), { minLength: 1, maxLength: 3 }),
  notarise: fc.boolean(),
})

interface Log {
  readonly steps: ReadonlyArray<Step>
  readonly every: number
  readonly signed: boolean
}

const logArb: fc.Arbitrary<Log> = fc.record({
  steps: fc.array(stepArb, { minLength: 2, maxLength: 14 }),
  every: fc.integer({ min: 1, max: 6 }),
  signed: fc.boolean(),
})

const tamperingArb: fc.Arbitrary<Tampering> = fc.oneof(
  fc.record({ kind: fc.constant("edit" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), at: fc.nat(), with: fc.nat() }),
)

/** Writes the log through the SQLite store, the notary checkpointing as it goes and at the end. */
const writeLog = async (path: string, log: Log) => {
  let seq = 0
  const notary = makeNotary({
    every: log.every, intervalMs: 1000, statement: checkpointStatement,
    signer: log.signed ? loadCheckpointSigner(privateKey) : undefined,
  })
  const program = Effect.gen(function* () {
    const store = yield* EventStore
    for (const step of log.steps) {
      const events = step.types.map((type) => ({
        type, schemaVersion: 1,
        // A sequence number makes every event distinct, so no tampering is a no-op.
        data: { seq: ++seq, note: `é-${seq}` },
        meta: { occurredAt: new Date(1_700_000_000_000 + seq * 1000).toISOString(), actor: "admin", correlationId: `c${seq}`, causationId: null },
      }))
      yield* store.append(`node-${step.stream}`, events, "any")
      if (step.notarise) yield* notary.tick
    }
    yield* notary.tick
  })
  await Effect.runPromise(Effect.provide(program, makeSqliteEventStore(path)))
}

/** The first finding names the spot: the event itself, or a checkpoint range holding it, never an earlier event. */
const namesSpot = (first: Finding | undefined, spot: number, exact: boolean) => {
  assert.ok(first !== undefined, "verify must name what was tampered with")
  if (first.range !== undefined) {
    assert.ok(!exact, `expected the event itself to be named, got ${first.message}`)
    assert.ok(first.range.from <= spot && spot <= first.range.to, `${first.message} should cover position ${spot}`)
  } else if (exact) {
    assert.equal(first.position, spot, first.message)
  } else {
    assert.ok(first.position >= spot, `${first.message} names an event before the tampering at ${spot}`)
  }
}

const failing = (report: VerifyReport, what: string) => assert.equal(report.ok, false, `${what} must not verify`)

test("an untouched log verifies; any one tampering is found and named, recomputed hashes included", { timeout: 300_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(logArb, tamperingArb, async (log, tampering) => {
      const original = file("original.db")
      await writeLog(original, log)
      // Exported before the tampering, kept away from the store.
      const exported = file("checkpoints.jsonl")
      writeFileSync(exported, exportCheckpoints(original))
      // ...and an export of every event with its hash, for exact naming.
      const exportedEvents = file("events.jsonl")
      await exportLog(original, { format: "jsonl" }, createWriteStream(exportedEvents))

      const untouched = verifyLogFile(original, exported, log.signed ? publicKey : undefined, exportedEvents)
      assert.ok(untouched.ok, JSON.stringify(untouched.findings))
      assert.ok(untouched.checkpointsMatched >= 2)

      const rows = readRows(original)
      const { rows: forged, spot } = tamper(rows, tampering)

      // The naive tamperer: hashes travel with their rows; the in-log checkpoints alone catch it.
      const naive = file("naive.db")
      writeRows(naive, forged)
      const found = verifyLogFile(naive)
      failing(found, `${tampering.kind} (hashes as they were)`)
      namesSpot(found.first, spot, tampering.kind === "edit" || tampering.kind === "insert")

      // The thorough tamperer: every stream hash and in-log checkpoint recomputed.
      recomputeHashes(forged, rows)
      const thorough = file("thorough.db")
      writeRows(thorough, forged)
      const againstExport = verifyLogFile(thorough, exported)
      failing(againstExport, `${tampering.kind} with recomputed hashes, against the exported checkpoints`)
      namesSpot(againstExport.first, spot, false)
      const againstEvents = verifyLogFile(thorough, undefined, undefined, exportedEvents)
      failing(againstEvents, `${tampering.kind} with recomputed hashes, against an earlier export`)
      namesSpot(againstEvents.first, spot, true)
      if (log.signed) {
        const againstKey = verifyLogFile(thorough, undefined, publicKey)
        failing(againstKey, `${tampering.kind} with recomputed hashes, against the public key`)
        assert.equal(againstKey.first?.kind, "signature")
      }
      for (const f of [original, exported, exportedEvents, naive, thorough]) rmSync(f, { force: true })
    }),
    { numRuns: 150 },
  )
})
