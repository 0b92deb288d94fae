// What a node's "no-*" interface would carry out is refused, with the interface named; the same
// request on a node whose interface fills the slot goes through.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import { startTestApp, type TestApp } from "../support/app.ts"

let app: TestApp
before(async () => { app = await startTestApp() })
after(async () => { await app.close() })

const manageable = async (name: string, driver: string, interfaces: Record<string, string> = {}) => {
  const node = await app.run(app.service.enroll({ name: name as never, driver, driverInfo: {}, properties: {}, instanceInfo: {}, extra: {}, interfaces }, "test"))
  await app.run(app.service.provision(node.uuid, "manage", {}, "test"))
  return app.waitFor(node.uuid, "manageable")
}

test("inspect on a node whose inspect_interface is no-inspect is refused and records nothing; on fake it completes", async () => {
  const sim = await manageable("no-inspect-node", "sim", { inspect: "no-inspect" })
  assert.equal(sim.interfaces.inspect, "no-inspect")
  const refused = await app.run(Effect.flip(app.service.provision(sim.uuid, "inspect", {}, "test")))
  assert.equal(refused._tag, "InvalidInput")
  assert.match(refused.message, /can not inspect: its inspect_interface is no-inspect/)
  const after = await app.run(app.service.history(sim.uuid, { limit: 1000 }))
  assert.ok(!after.some((e) => e.event === "InspectRequested"))

  const fake = await manageable("fake-inspect-node", "fake-hardware")
  await app.run(app.service.provision(fake.uuid, "inspect", {}, "test"))
  await app.waitFor(fake.uuid, "manageable")
  const history = await app.run(app.service.history(fake.uuid, { limit: 1000 }))
  assert.ok(history.some((e) => e.event === "Inspected"))
})
