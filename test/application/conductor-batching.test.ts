// The conductor's appends (ADR 0125): a fake-hardware node's operation is written in one append
// (lease, steps, completion, release), with the same events as one append each; a sim node's
// hardware steps keep the request in the log before the action, in an append of its own.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { MemoryStores } from "../../src/adapters/eventstore/memory.ts"
import { EventStore } from "../../src/ports/index.ts"
import { startTestApp, type TestApp } from "../support/app.ts"

/** Every append as the list of its event types, per stream, in order. */
const appends = new Map<string, Array<Array<string>>>()
const countingStores = Layer.effectContext(Effect.gen(function* () {
  const context = yield* Layer.build(MemoryStores)
  const inner = Context.get(context, EventStore)
  return Context.add(context, EventStore, {
    ...inner,
    append: (streamId, events, expected) =>
      Effect.tap(inner.append(streamId, events, expected), () => Effect.sync(() => {
        const list = appends.get(streamId) ?? appends.set(streamId, []).get(streamId)!
        list.push(events.map((e) => e.type))
      })),
  })
}))

let app: TestApp
before(async () => { app = await startTestApp({ stores: countingStores }) })
after(async () => { await app.close() })

const enroll = (name: string, driver: string) =>
  app.run(app.service.enroll({ name: name as never, driver: driver as never, driverInfo: {}, properties: {}, instanceInfo: {}, extra: {} }, "test"))

test("fake-hardware: each operation of the conductor is one append, the lease taken and let go in it", async () => {
  const node = await enroll("instant", "fake-hardware")
  for (const [target, state] of [["manage", "manageable"], ["provide", "available"], ["active", "active"]] as const) {
    await app.run(app.service.provision(node.uuid, target, {}, "test"))
    await app.waitFor(node.uuid, state)
  }
  assert.deepEqual(appends.get(`node-${node.uuid}`), [
    ["Enrolled"],
    ["ManageRequested"],
    ["LeaseAcquired", "PowerStateObserved", "Verified", "LeaseReleased"],
    ["ProvideRequested"],
    ["LeaseAcquired", "CleaningDone", "LeaseReleased"],
    ["DeployRequested"],
    ["LeaseAcquired", "PowerOnRequested", "PowerStateChanged", "DeployDone", "LeaseReleased"],
  ])
  const history = await app.run(app.service.history(node.uuid, { limit: 100 }))
  assert.deepEqual(history.map((h) => h.revision), history.map((_, i) => i), "one revision per event, none skipped")
})

test("sim: a hardware step's request is in the log, alone, before the action; its result follows in another append", async () => {
  const node = await enroll("real", "sim")
  await app.run(app.service.provision(node.uuid, "manage", {}, "test"))
  await app.waitFor(node.uuid, "manageable")
  await app.run(app.service.power(node.uuid, "power on", "test"))
  const deadline = Date.now() + 10_000
  while ((await app.run(app.service.get(node.uuid))).powerState !== "power on") {
    assert.ok(Date.now() < deadline, "the node was not powered on within 10 s")
    await new Promise((r) => setTimeout(r, 20))
  }
  await app.run(app.conductor.settle)
  const list = appends.get(`node-${node.uuid}`)!
  const request = list.findIndex((types) => types.includes("PowerOnRequested"))
  const result = list.findIndex((types) => types.includes("PowerStateChanged"))
  assert.ok(request >= 0 && result > request, `request then result in a later append: ${JSON.stringify(list)}`)
  assert.equal(list[request]!.at(-1), "PowerOnRequested", "nothing after the request in its append")
})
