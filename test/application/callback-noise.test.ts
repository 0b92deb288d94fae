// Unauthenticated noise does not flood a node's history (ADR 0033): 2,000 call-backs with a wrong
// key to a node waiting for its ramdisk add two events (the first refusal, then the window's
// count with its sources); the right key still deploys; the history can leave the noise out.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import { startTestApp, type TestApp } from "../support/app.ts"

let app: TestApp
before(async () => { app = await startTestApp({ autoCallBack: false, refusalWindowMs: 300 }) })
after(async () => { await app?.close() })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test("2,000 wrong call-backs to a waiting node add two events; the ramdisk's own then deploys", { timeout: 60_000 }, async () => {
  const node = await app.run(app.service.enroll({ name: "noisy" as never, driver: "sim", driverInfo: {}, properties: { local_gb: 4 }, instanceInfo: {}, extra: {} }, "test"))
  await app.run(app.service.addPort({ nodeRef: node.uuid, mac: "52:54:00:00:0e:01" as never }, "test"))
  for (const [target, state] of [["manage", "manageable"], ["provide", "available"], ["active", "wait call-back"]] as const) {
    await app.run(app.service.provision(node.uuid, target, {}, "test"))
    await app.waitFor(node.uuid, state)
  }
  for (let i = 0; i < 300 && !app.heldCallbacks.some((c) => c.nodeId === node.uuid); i++) await sleep(10)
  const held = app.heldCallbacks.find((c) => c.nodeId === node.uuid)!
  const count = async () => (await app.run(app.service.history(node.uuid, { limit: 100_000 }))).length
  const before = await count()

  for (let i = 0; i < 2000; i++) {
    const refused = await app.run(Effect.flip(app.service.passDeployInfo(node.uuid, { ...held.callback, key: `junk-${i}`, source: `10.0.0.${i % 3}` })))
    assert.equal(refused._tag, "Refused")
  }
  assert.equal(await count(), before + 1, "the first refusal is recorded at once, the others counted")
  await sleep(600)
  const entries = await app.run(app.service.history(node.uuid, { limit: 100_000 }))
  assert.equal(entries.length, before + 2, "one more event: the window's count")
  const summary = entries.at(-1)!
  assert.equal(summary.event, "CallbackRejected")
  assert.deepEqual(summary.data, { reason: "The deploy key does not match the running deploy.", count: 1999, sources: ["10.0.0.1", "10.0.0.2", "10.0.0.0"] })
  assert.match(summary.summary, /1999 more ramdisk call-backs refused \(from 10\.0\.0\.1, 10\.0\.0\.2, 10\.0\.0\.0\)/)

  await app.run(app.service.passDeployInfo(node.uuid, held.callback))
  await app.waitFor(node.uuid, "active")
  const quiet = await app.run(app.service.history(node.uuid, { limit: 100_000, filter: { hideNoise: true } }))
  assert.ok(quiet.every((e) => e.event !== "CallbackRejected"))
  assert.equal(quiet.length, (await count()) - 2)
})
