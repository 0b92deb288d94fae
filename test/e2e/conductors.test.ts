// Two `ironledger conductor` processes and one `ironledger serve` (API only: its own conductor is
// off, so that the two conductors do all the driving and are the ones compared) share one SQLite
// file and deploy 20 fake-hardware nodes through the HTTP API. The log read back with the
// EventStore adapter must show each node driven by one conductor at a time, only under its lease,
// and both conductors at work.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { StoredEvent } from "../../src/ports/index.ts"
import {
  auditLeases, mac, makeApi, readLog, repeatedRequests, startApi, startConductor, stopAll, unanswered,
} from "./conductor-harness.ts"

const NODES = 20
const CONDUCTORS = ["conductor-a", "conductor-b"]

let dir: string
let db: string
let api: ReturnType<typeof makeApi>
const uuids: Array<string> = []

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ironledger-conductors-"))
  db = join(dir, "ironledger.db")
  const server = await startApi(db)
  api = makeApi(server.url)
  for (const name of CONDUCTORS) await startConductor(db, name, server.url, { leaseTtlMs: 5000, sweepMs: 250 })
})

after(async () => {
  await stopAll()
  rmSync(dir, { recursive: true, force: true })
})

describe("two conductor processes on one store", () => {
  test(`deploy ${NODES} nodes between them, each node driven by one conductor at a time`, { timeout: 180_000 }, async () => {
    for (let i = 0; i < NODES; i++) uuids.push(await api.enroll(`multi-${i}`, mac(i)))
    await Promise.all(uuids.map((u) => api.provision(u, "manage")))
    await api.settle(uuids, ["manageable"], 60_000)
    await Promise.all(uuids.map((u) => api.provision(u, "provide")))
    await api.settle(uuids, ["available"], 60_000)
    await Promise.all(uuids.map((u) => api.provision(u, "active")))
    const nodes = await api.settle(uuids, ["active", "deploy failed"], 90_000)
    assert.deepEqual(nodes.filter((n) => n["provision_state"] !== "active").map((n) => `${n["name"]}: ${n["last_error"]}`), [])

    const log = await readLog(db)
    const audit = auditLeases(log)
    assert.deepEqual(audit.violations, [])
    // Only the two conductor processes drove nodes (the API's own conductor is off).
    assert.deepEqual([...audit.workBy.keys()].sort(), CONDUCTORS)
    for (const name of CONDUCTORS) assert.ok((audit.workBy.get(name) ?? 0) > 0, `${name} did no work`)
    // Every node's saga is complete in its stream: each step was asked for once and answered.
    for (const uuid of uuids) {
      const stream = log.filter((e) => e.streamId === `node-${uuid}`)
      assert.deepEqual(unanswered(stream), [], `node ${uuid}`)
      assert.deepEqual(repeatedRequests(stream), [], `node ${uuid}`)
      assert.ok(stream.some((e) => e.type === "DeployDone"), `node ${uuid} has no DeployDone`)
      // A step is carried out once: a power-on repeated after the call-back landed would boot a
      // second ramdisk, whose call-back the node then refuses.
      assert.deepEqual(stream.filter((e) => e.type === "CallbackRejected").map((e) => e.data), [], `node ${uuid}`)
    }
    const split = CONDUCTORS.map((c) => `${c}: ${audit.workBy.get(c)} events`).join(", ")
    const shared = [...audit.driversOf.values()].filter((d) => d.size > 1).length
    console.log(`# work split ${split}; ${shared} of ${NODES} nodes were driven by both (at different times)`)
  })

  test("the audit catches a conductor recording under another's lease", () => {
    // The check above must be able to fail: a log where b records a step while a's lease runs.
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)).toISOString()
    const ev = (revision: number, type: string, actor: string, ms: number, data: unknown = {}): StoredEvent => ({
      streamId: "node-x", revision, position: revision, type, schemaVersion: 1, data,
      meta: { actor, occurredAt: at(ms), correlationId: "c", causationId: null },
    })
    const log = [
      ev(0, "LeaseAcquired", "a", 0, { holder: "a", expiresAt: at(900) }),
      ev(1, "PowerOnRequested", "a", 10, { step: "s" }),
      ev(2, "PowerStateChanged", "b", 20, { step: "s" }),
      ev(3, "LeaseAcquired", "b", 30, { holder: "b", expiresAt: at(990) }),
      ev(4, "LeaseAcquired", "a", 995, { holder: "a", expiresAt: at(1900) }),
      ev(5, "RebootRequested", "a", 1950, { step: "t" }),
    ]
    const { violations } = auditLeases(log)
    assert.equal(violations.length, 3, violations.join("\n"))
    assert.match(violations[0]!, /@2 PowerStateChanged by b .*outside its lease \(lease: a until/)
    assert.match(violations[1]!, /@3 LeaseAcquired by b .*taken while a held it/)
    // a's lease taken back after b's ran out is fine; a step after a's own ran out is not.
    assert.match(violations[2]!, /@5 RebootRequested by a .*outside its lease/)
    assert.deepEqual(auditLeases(log.slice(0, 2)).violations, [])
  })
})

