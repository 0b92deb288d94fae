// Power sync: a node powered by hand behind the service's back shows its real power state.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
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

test("a BMC that stops answering puts its node in maintenance with fault power failure; its return lifts both", async () => {
  const node = await app.run(app.service.enroll({
    name: "unplugged" as never, driver: "sim", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {},
  }, "test"))
  await app.run(app.service.provision(node.uuid, "manage", {}, "test"))
  await app.waitFor(node.uuid, "manageable")
  const until = async (what: string, ok: (n: Awaited<ReturnType<typeof get>>) => boolean) => {
    const deadline = Date.now() + 8000
    for (;;) {
      const n = await get()
      if (ok(n)) return n
      assert.ok(Date.now() < deadline, `${what} within 8 s (now maintenance ${n.maintenance}, fault ${n.fault})`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }
  const get = () => app.run(app.service.get(node.uuid))
  app.sim.unplugBmc(node.uuid, true)
  const faulty = await until("the fault is recorded", (n) => n.fault === "power failure")
  assert.equal(faulty.maintenance, true)
  assert.match(faulty.maintenanceReason ?? "", /could not be reached 3 times in a row/)
  assert.deepEqual((await app.run(app.service.list({ fault: "power failure" }, { limit: 10 }))).map((n) => n.uuid), [node.uuid])
  app.sim.unplugBmc(node.uuid, false)
  const back = await until("the fault is cleared", (n) => n.fault === null)
  assert.equal(back.maintenance, false)
  assert.equal(back.maintenanceReason, null)
  const events = (await app.run(app.service.history(node.uuid, { limit: 100 }))).map((e) => e.event)
  assert.deepEqual(events.filter((e) => e.startsWith("Fault")), ["FaultRecorded", "FaultCleared"])
})

test("an operator's maintenance is neither overwritten by a power failure nor lifted by the recovery", async () => {
  const node = await app.run(app.service.enroll({
    name: "operator-held" as never, driver: "sim", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {},
  }, "test"))
  await app.run(app.service.provision(node.uuid, "manage", {}, "test"))
  await app.waitFor(node.uuid, "manageable")
  await app.run(app.service.setMaintenance(node.uuid, true, "rack move", "test"))
  app.sim.unplugBmc(node.uuid, true)
  await new Promise((r) => setTimeout(r, 1500))
  app.sim.unplugBmc(node.uuid, false)
  await new Promise((r) => setTimeout(r, 300))
  const n = await app.run(app.service.get(node.uuid))
  assert.equal(n.fault, null)
  assert.equal(n.maintenance, true)
  assert.equal(n.maintenanceReason, "rack move")
})
