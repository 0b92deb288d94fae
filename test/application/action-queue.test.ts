// The action queue (ADR 0050) with the conductor: what waits behind a deploy is dropped, with the
// reason in the history, when the deploy fails; a queued request refused by the time its turn comes
// (maintenance was set) is dropped with the refusal as its reason.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { startTestApp, type TestApp } from "../support/app.ts"

let app: TestApp

before(async () => {
  // Deploy call-backs are held back, so a deploy waits for its ramdisk until the wait times out.
  app = await startTestApp({ autoCallBack: false, conductor: { callbackTimeoutMs: 3_000 } })
})
after(async () => { await app?.close() })

const availableNode = async (name: string, mac: string) => {
  const node = await app.run(app.service.enroll({
    name: name as never, driver: "sim", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {},
  }, "test"))
  await app.run(app.service.addPort({ nodeRef: node.uuid, mac: mac as never }, "test"))
  await app.run(app.service.provision(node.uuid, "manage", {}, "test"))
  await app.waitFor(node.uuid, "manageable")
  await app.run(app.service.provision(node.uuid, "provide", {}, "test"))
  await app.waitFor(node.uuid, "available")
  return node.uuid
}

const historyOf = (uuid: string) => app.run(app.service.history(uuid, { limit: 1000 }))

test("what waits behind a deploy that fails is dropped, each with an event saying why", { timeout: 30_000 }, async () => {
  const uuid = await availableNode("queue-fails", "52:54:00:0e:01:01")
  await app.run(app.service.provision(uuid, "active", {}, "test"))
  await app.waitFor(uuid, "wait call-back")
  await app.run(app.service.power(uuid, "power off", "test"))
  await app.run(app.service.provision(uuid, "rebuild", {}, "test"))
  assert.equal((await app.run(app.service.get(uuid))).provisionState, "wait call-back")
  await app.waitFor(uuid, "deploy failed", 15_000)
  const history = await historyOf(uuid)
  const queued = history.filter((e) => e.event === "ActionQueued")
  const dropped = history.filter((e) => e.event === "QueuedActionDropped")
  assert.equal(queued.length, 2)
  assert.equal(dropped.length, 2)
  assert.match(dropped[0]!.summary, /dropped: the action it waited for timed out/)
  assert.match(dropped[1]!.summary, /ahead of it was dropped: the action it waited for timed out/)
  // They come right after the time-out, in the same append, and neither was carried out.
  const timedOut = history.findIndex((e) => e.event === "WaitTimedOut")
  assert.deepEqual(history.slice(timedOut + 1, timedOut + 3).map((e) => e.event), ["QueuedActionDropped", "QueuedActionDropped"])
  assert.equal(history.filter((e) => e.event === "QueuedActionStarted").length, 0)
  assert.equal(history.filter((e) => e.event === "DeployRequested").length, 1)
})

test("a queued rebuild refused when its turn comes (maintenance was set meanwhile) is dropped with the refusal", { timeout: 30_000 }, async () => {
  const uuid = await availableNode("queue-maintenance", "52:54:00:0e:01:02")
  await app.run(app.service.provision(uuid, "active", {}, "test"))
  await app.waitFor(uuid, "wait call-back")
  await app.run(app.service.provision(uuid, "rebuild", {}, "test"))
  await app.run(app.service.setMaintenance(uuid, true, "cabling", "test"))
  assert.equal((await app.run(app.service.get(uuid))).maintenance, true, "maintenance acts at once")
  // Let the deploy's ramdisk call back: the deploy ends, then the rebuild's turn comes.
  for (let i = 0; i < 500 && !app.heldCallbacks.some((h) => h.nodeId === uuid); i++) await new Promise((r) => setTimeout(r, 10))
  const held = app.heldCallbacks.find((h) => h.nodeId === uuid)
  assert.ok(held !== undefined, "the deploy's ramdisk called back")
  await app.run(app.service.passDeployInfo(held.nodeId, held.callback))
  await app.waitFor(uuid, "active", 15_000)
  for (let i = 0; i < 200 && (await historyOf(uuid)).every((e) => e.event !== "QueuedActionDropped"); i++) await new Promise((r) => setTimeout(r, 10))
  const history = await historyOf(uuid)
  const dropped = history.filter((e) => e.event === "QueuedActionDropped")
  assert.equal(dropped.length, 1, history.map((e) => e.event).join(", "))
  assert.match(dropped[0]!.summary, /is in maintenance; "rebuild" is refused until maintenance is cleared/)
  assert.equal(history.filter((e) => e.event === "DeployRequested").length, 1, "the rebuild was not carried out")
})
