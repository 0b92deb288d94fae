// Names and MACs are unique across the fleet, also when requests race each other.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import { startTestApp, type TestApp } from "../support/app.ts"
import { SlowMemoryStores } from "../support/slow-store.ts"

let app: TestApp
before(async () => { app = await startTestApp({ stores: SlowMemoryStores(2) }) })
after(async () => { await app.close() })

const enroll = (name: string) =>
  app.service.enroll({ name: name as never, driver: "fake-hardware", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {} }, "test")

test("of 20 concurrent enrolls with one name exactly one succeeds; the others get a conflict", async () => {
  const outcomes = await app.run(Effect.all(Array.from({ length: 20 }, () => Effect.result(enroll("twin"))), { concurrency: "unbounded" }))
  const won = outcomes.filter((o) => o._tag === "Success")
  assert.equal(won.length, 1)
  for (const o of outcomes) if (o._tag === "Failure") assert.equal(o.failure._tag, "Conflict")
  assert.equal((await app.run(app.service.list({}, { limit: 100 }))).filter((n) => n.name === "twin").length, 1)
})

test("of 20 concurrent port creations with one MAC on different nodes exactly one succeeds", async () => {
  const nodes = await app.run(Effect.all(Array.from({ length: 20 }, (_, i) => enroll(`mac-race-${i}`)), { concurrency: "unbounded" }))
  const outcomes = await app.run(Effect.all(
    nodes.map((n) => Effect.result(app.service.addPort({ nodeRef: n.uuid, mac: "52:54:00:aa:bb:cc" as never }, "test"))),
    { concurrency: "unbounded" },
  ))
  assert.equal(outcomes.filter((o) => o._tag === "Success").length, 1)
  assert.equal((await app.run(app.service.listPorts({ address: "52:54:00:aa:bb:cc" as never }, { limit: 100 }))).length, 1)
})

test("renaming a node to a taken name is a conflict; to a free one works", async () => {
  const a = await app.run(enroll("rename-a"))
  await app.run(enroll("rename-b"))
  const refused = await app.run(Effect.flip(app.service.update(a.uuid, { name: "rename-b" as never }, "test")))
  assert.equal(refused._tag, "Conflict")
  assert.equal((await app.run(app.service.update(a.uuid, { name: "rename-c" as never }, "test"))).name, "rename-c")
  assert.equal((await app.run(app.service.get("rename-c"))).uuid, a.uuid)
})
