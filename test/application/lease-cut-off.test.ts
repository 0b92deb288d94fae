// A conductor cut off from the store stops acting on a node while its lease still runs, so it is
// never acting when another conductor may take the node; one that can renew carries on. On
// Effect's TestClock: time is moved, not waited for.
import { test } from "node:test"
import assert from "node:assert/strict"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { TestClock } from "effect/testing"
import { makeLeases, LeaseLost } from "../../src/application/conductor/leases.ts"
import { Fleet } from "../../src/application/projections/fleet.ts"
import type { NodeCommand, NodeEvent, NodeState, Uuid } from "../../src/domain/index.ts"
import { MemoryStores } from "../../src/adapters/eventstore/memory.ts"
import { RandomIds } from "../../src/adapters/system/ids.ts"
import { StoreUnavailable, type EventStore, type Ids } from "../../src/ports/index.ts"

const nodeId = "00000000-0000-4000-8000-0000000000c1" as Uuid
const TTL = 3000
const at = (ms: number) => new Date(ms).toISOString()

const fleetWithLeasedStep = () => {
  const fleet = new Fleet()
  const events: NodeEvent[] = [
    { type: "Enrolled", data: { nodeId, name: null, driver: "sim", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {} } },
    { type: "LeaseAcquired", data: { holder: "c1", expiresAt: at(TTL) } },
    { type: "RebootRequested", data: { step: "op:reboot" } },
  ]
  events.forEach((event, revision) => fleet.apply(nodeId, { event, revision, meta: { occurredAt: at(0), actor: "c1", correlationId: "op", causationId: null } }))
  return fleet
}

const run = <A, E>(eff: Effect.Effect<A, E, EventStore | Ids>) =>
  Effect.runPromise(Effect.provide(eff, Layer.mergeAll(TestClock.layer(), MemoryStores, RandomIds)))

test("cut off from the store, a conductor interrupts its step before its lease runs out", async () => {
  const fleet = fleetWithLeasedStep()
  const cut = () => Effect.fail(new StoreUnavailable({ reason: "network link cut" }))
  const { renewingLease } = makeLeases(fleet, { name: "c1", leaseTtlMs: TTL }, cut as never)
  const outcome = await run(Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(renewingLease(nodeId, "op:reboot", Effect.never))
    yield* TestClock.adjust(`${TTL / 3} millis`)
    assert.equal(fiber.pollUnsafe(), undefined, "stopped while the lease had two thirds left")
    yield* TestClock.adjust(`${TTL / 3} millis`)
    const ended = fiber.pollUnsafe()
    if (ended === undefined) yield* Fiber.interrupt(fiber)
    return ended
  }))
  assert.ok(outcome !== undefined && Exit.isFailure(outcome), "the step went on with a third of the lease left and no way to renew it")
  const error = Cause.findErrorOption(outcome.cause)
  assert.ok(Option.isSome(error) && error.value instanceof LeaseLost, `stopped for another reason: ${Cause.pretty(outcome.cause)}`)
})

test("a conductor that can renew keeps acting past its first lease", async () => {
  const fleet = fleetWithLeasedStep()
  let renewals = 0
  const renew = (n: NodeState, c: NodeCommand) => Effect.sync(() => {
    if (c.type !== "AcquireLease") return
    renewals++
    fleet.apply(nodeId, { event: { type: "LeaseAcquired", data: { holder: c.holder, expiresAt: c.expiresAt } }, revision: n.revision + 1, meta: { occurredAt: c.now, actor: "c1", correlationId: "op", causationId: null } })
  })
  const { renewingLease } = makeLeases(fleet, { name: "c1", leaseTtlMs: TTL }, renew)
  const still = await run(Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(renewingLease(nodeId, "op:reboot", Effect.never))
    for (let i = 0; i < 6; i++) yield* TestClock.adjust(`${TTL / 3} millis`)
    const running = fiber.pollUnsafe() === undefined
    yield* Fiber.interrupt(fiber)
    return running
  }))
  assert.ok(still, "a renewing conductor stopped its step")
  assert.ok(renewals >= 2)
})
