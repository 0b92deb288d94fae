// The concurrent deploy limit on a SQLite log, where appends complete asynchronously: deploys kicked
// together must not all see the same free slot, and queued deploys start as slots free up.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { startTestApp, type TestApp } from "../support/app.ts"

const LIMIT = 2
const NODES = 6

let dir: string
let app: TestApp

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ironledger-limit-"))
  app = await startTestApp({
    stores: makeSqliteEventStore(join(dir, "log.sqlite")),
    autoCallBack: false,
    conductor: { maxConcurrentDeploys: LIMIT },
  })
})

after(async () => {
  try { await app?.close() } finally { rmSync(dir, { recursive: true, force: true }) }
})

test(`with a limit of ${LIMIT}, ${NODES} deploys asked at once run ${LIMIT} at a time and all end active`, { timeout: 60_000 }, async () => {
  const uuids: Array<string> = []
  for (let i = 0; i < NODES; i++) {
    const node = await app.run(app.service.enroll({
      name: `limit-${i}` as never, driver: "sim", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {},
    }, "test"))
    await app.run(app.service.addPort({ nodeRef: node.uuid, mac: `52:54:00:00:0a:0${i}` as never }, "test"))
    await app.run(app.service.provision(node.uuid, "manage", {}, "test"))
    await app.waitFor(node.uuid, "manageable")
    await app.run(app.service.provision(node.uuid, "provide", {}, "test"))
    await app.waitFor(node.uuid, "available")
    uuids.push(node.uuid)
  }
  await Promise.all(uuids.map((u) => app.run(app.service.provision(u, "active", {}, "test"))))

  // Call-backs are held back, one let in per round: a deploy keeps its slot (and waits for its
  // ramdisk) until then, so the number waiting is the number of slots taken.
  const deadline = Date.now() + 30_000
  let peak = 0
  for (;;) {
    const nodes = await Promise.all(uuids.map((u) => app.run(app.service.get(u))))
    const waiting = nodes.filter((n) => n.provisionState === "wait call-back").length
    peak = Math.max(peak, waiting)
    if (nodes.every((n) => n.provisionState === "active")) break
    assert.ok(Date.now() < deadline, `stuck: ${nodes.map((n) => n.provisionState).join(", ")}`)
    assert.ok(waiting <= LIMIT, `${waiting} deploys in wait call-back with a limit of ${LIMIT}`)
    // A call-back is let in only once the slots are full (or every deploy left is waiting), so
    // the peak does not depend on how fast the ramdisks boot on a busy machine.
    const full = waiting === LIMIT || waiting === nodes.filter((n) => n.provisionState !== "active").length
    const held = full ? app.heldCallbacks.shift() : undefined
    if (held !== undefined) await app.run(app.service.passDeployInfo(held.nodeId, held.callback))
    else await new Promise((r) => setTimeout(r, 20))
  }
  assert.equal(peak, LIMIT, "the limit was never reached: the test did not test it")
})
