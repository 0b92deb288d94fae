// Power sync: a node powered by hand behind the service's back shows its real power state.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { Effect } from "effect"
import { startTestApp, type TestApp } from "../support/app.ts"

let app: TestApp
before(async () => { app = await startTestApp({ conductor: { powerSyncIntervalMs: 50 } }) })
after(async () => { await app.close() })

test("a power change made out of band is observed and recorded, without any action taken", async () => {
  const node = await app.run(app.service.enroll({
    name: "synced" as never, driver: "sim", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {},
  }, "test"))
  await app.run(app.service.provision(node.uuid, "manage", {}, "test"))
  assert.equal((await app.waitFor(node.uuid, "manageable")).powerState, "power off")
  // Someone presses the power button of the node's simulated machine.
  await Effect.runPromise(app.sim.pressPowerButton(node.uuid))
  const deadline = Date.now() + 5000
  while ((await app.run(app.service.get(node.uuid))).powerState !== "power on") {
    assert.ok(Date.now() < deadline, "the power change was not observed within 5 s")
    await new Promise((r) => setTimeout(r, 20))
  }
  const history = await app.run(app.service.history(node.uuid, { limit: 100 }))
  const last = history.at(-1)!
  assert.equal(last.event, "PowerStateObserved")
  assert.equal(last.data["powerState"], "power on")
  assert.equal(history.filter((e) => e.event.endsWith("Requested") && e.event.startsWith("Power")).length, 0, "no power action was taken")
})
