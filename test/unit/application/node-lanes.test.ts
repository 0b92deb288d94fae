// Per-node lanes: commands of one node never overlap, other nodes' commands do, and no lane is
// kept once its commands are done (also when they fail or are interrupted).
import { test } from "node:test"
import assert from "node:assert/strict"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { makeNodeLanes } from "../../../src/application/node-service/node-lanes.ts"

test("one node's commands run one at a time, in turn; the lane is dropped after", async () => {
  const lanes = makeNodeLanes()
  const log: Array<string> = []
  const step = (name: string) => Effect.gen(function* () {
    log.push(`${name} in`)
    yield* Effect.sleep("5 millis")
    log.push(`${name} out`)
  })
  await Effect.runPromise(Effect.all([lanes.run("n1", step("a")), lanes.run("n1", step("b")), lanes.run("n1", step("c"))], { concurrency: "unbounded" }))
  assert.deepEqual(log, ["a in", "a out", "b in", "b out", "c in", "c out"])
  assert.equal(lanes.size(), 0)
})

test("different nodes' commands run at the same time", async () => {
  const lanes = makeNodeLanes()
  const both = await Effect.runPromise(Effect.gen(function* () {
    const gate = yield* Deferred.make<void>()
    // n1's command waits for n2's: with a lane shared between them this would never finish.
    const first = yield* Effect.forkChild(lanes.run("n1", Deferred.await(gate).pipe(Effect.as("n1"))))
    yield* Effect.sleep("5 millis")
    const second = yield* lanes.run("n2", Effect.sync(() => lanes.size()).pipe(Effect.tap(() => Deferred.succeed(gate, undefined))))
    return [yield* Fiber.join(first), second] as const
  }).pipe(Effect.timeout("2 seconds")))
  assert.deepEqual(both, ["n1", 2])
  assert.equal(lanes.size(), 0)
})

test("a failed or interrupted command leaves no lane behind and does not block the next", async () => {
  const lanes = makeNodeLanes()
  const failed = await Effect.runPromise(Effect.exit(lanes.run("n1", Effect.fail("refused"))))
  assert.equal(failed._tag, "Failure")
  await Effect.runPromise(Effect.gen(function* () {
    const holder = yield* Effect.forkChild(lanes.run("n1", Effect.never))
    const waiter = yield* Effect.forkChild(lanes.run("n1", Effect.succeed(1)))
    yield* Effect.sleep("5 millis")
    assert.equal(lanes.size(), 1)
    yield* Fiber.interrupt(waiter)
    yield* Fiber.interrupt(holder)
  }))
  assert.equal(lanes.size(), 0)
  assert.equal(await Effect.runPromise(lanes.run("n1", Effect.succeed("next"))), "next")
})
