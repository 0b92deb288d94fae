// Model-based test of the node lifecycle: random command sequences go through execute() against the
// in-memory EventStore and are compared, command by command, with the independent model in
// lifecycle-model.ts. Sometimes another writer slips an append in between read and append.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { makeMemoryEventStore } from "../../src/adapters/eventstore/memory.ts"
import { fromStored, streamOf } from "../../src/application/event-codec.ts"
import { catchUp, execute } from "../../src/application/execute.ts"
import { Fleet } from "../../src/application/projections/fleet.ts"
import { evolve, fold, initialState, transitions, type NodeCommand, type NodeState } from "../../src/domain/index.ts"
import { EventStore, type StoredEvent } from "../../src/ports/index.ts"
import { discoverArb, enrollArb, nodeCommandArb, poolsFor } from "../support/arbitraries.ts"
import { metaAt } from "../support/fleet-log.ts"
import { steerArb, steerCommands, type Steer } from "../support/steering.ts"
import { emptyModel, predict, predictRace, type NodeModel, type Outcome } from "./lifecycle-model.ts"

const pools = poolsFor(7)
const nodeId = pools.nodeId

interface Real {
  readonly store: EventStore["Service"]
  /** The store as the command under test sees it: another writer may append just before it does. */
  readonly raced: EventStore["Service"]
  readonly fleet: Fleet
  /** The other writer's own view, as another conductor process would have. */
  readonly rivalFleet: Fleet
  rival: NodeCommand | null
  clock: number
}

const newReal = (): Real => {
  const store = makeMemoryEventStore()
  const real: Real = {
    store, fleet: new Fleet(), rivalFleet: new Fleet(), rival: null, clock: 0,
    raced: {
      ...store,
      append: (streamId, events, expected) =>
        Effect.suspend(() => Effect.andThen(runRival(real), store.append(streamId, events, expected))),
    },
  }
  return real
}

const run = (real: Real, fleet: Fleet, store: EventStore["Service"], command: NodeCommand) =>
  Effect.runSync(
    execute(fleet, nodeId, command, { ...metaAt(++real.clock), actor: "property-test" }).pipe(
      Effect.result,
      Effect.provideService(EventStore, store),
    ),
  )

/** The other writer's command, run once, straight against the store. */
const runRival = (real: Real) =>
  Effect.sync(() => {
    const rival = real.rival
    real.rival = null
    if (rival !== null) run(real, real.rivalFleet, real.store, rival)
  })

const readStream = (real: Real): ReadonlyArray<StoredEvent> =>
  Effect.runSync(real.store.readStream(streamOf(nodeId)))

const describeCommand = (c: NodeCommand) => JSON.stringify(c)

/** Every provision-state change along the stream is an edge of the table. */
const assertStaysInTable = (stream: ReadonlyArray<StoredEvent>) => {
  let state: NodeState = initialState(nodeId)
  for (const stored of stream) {
    const { event, meta } = fromStored(stored)
    const after = evolve(state, event, meta)
    if (after.provisionState !== state.provisionState) {
      assert.ok(
        transitions.some((t) => t.from === state.provisionState && t.to === after.provisionState),
        `${event.type} moved the node from "${state.provisionState}" to "${after.provisionState}": not an edge of the table`,
      )
    }
    state = after
  }
}

const assertMatchesModel = (real: Real, m: NodeModel) => {
  const stream = readStream(real)
  assert.equal(stream.length, m.revision + 1, "stream length")
  assertStaysInTable(stream)
  if (m.revision < 0) return
  // The rival may have written after the command under test: bring the fleet's copy up to date.
  const s = Effect.runSync(catchUp(real.fleet, nodeId).pipe(Effect.provideService(EventStore, real.store)))!
  // The command path's copy of the node is exactly the fold of the log.
  assert.deepEqual(s, fold(nodeId, stream.map(fromStored)))
  assert.deepEqual(
    {
      revision: s.revision, deleted: s.deleted, state: s.provisionState, driver: s.driver, maintenance: s.maintenance,
      ports: s.ports.map((p) => [p.portId, p.mac]).sort(), waitDeadline: s.waitDeadline, power: s.powerState,
      pending: s.pendingSteps.map((p) => [p.step, p.action]).sort(),
      deploy: s.deploy && { deployId: s.deploy.deployId, imageWritten: s.deploy.imageWritten, callbackUsed: s.deploy.callbackUsed },
      lease: s.lease, queue: s.queue.map((q) => [q.actionId, q.action]),
    },
    {
      revision: m.revision, deleted: m.deleted, state: m.state, driver: m.driver, maintenance: m.maintenance,
      ports: [...m.ports].sort(), waitDeadline: m.waitDeadline, power: m.power, pending: [...m.pending].sort(),
      deploy: m.deploy, lease: m.lease, queue: m.queue.map((q) => [q.actionId, q.action]),
    },
  )
}

type Executed = ReturnType<typeof run>

const assertOutcome = (
  got: Executed,
  expected: Outcome,
  before: ReadonlyArray<StoredEvent>,
  after: ReadonlyArray<StoredEvent>,
) => {
  if (expected.kind === "refused") {
    assert.ok(Result.isFailure(got), `expected a refusal (${expected.code}), got ${JSON.stringify(got)}`)
    const failure = got.failure
    assert.equal(failure._tag, "Refused")
    if (failure._tag !== "Refused") return
    const e = failure.error
    assert.deepEqual({ code: e.code, nodeId: e.nodeId, action: e.action, state: e.state }, {
      code: expected.code, nodeId, action: expected.action, state: expected.state,
    }, e.message)
    if (e.code === "InvalidTransition") {
      // Ironic's wording; a request judged on the state the queue leads to says so after it.
      const ironic = `The requested action "${e.action}" can not be performed on node "${nodeId}" while it is in state "${e.state}".`
      if (e.message !== ironic) assert.ok(e.message.startsWith(`${ironic} That is the state node ${nodeId} will be in once `), e.message)
    }
    assert.deepEqual(after, before, "a refused command left the stream as it was")
    return
  }
  assert.ok(Result.isSuccess(got), `expected acceptance, got ${JSON.stringify(got)}`)
  assert.equal(got.success.events.length, expected.emits ? (expected.count ?? 1) : 0, "events recorded")
  assert.equal(after.length, before.length + got.success.events.length, "the stream grew by the recorded events")
}

/** Sends one command to the real system and checks it against the model, which it then advances. */
const send = (model: NodeModel, real: Real, command: NodeCommand) => {
  const expected = predict(model, command)
  const before = readStream(real)
  assertOutcome(run(real, real.fleet, real.raced, command), expected, before, readStream(real))
  if (expected.kind === "accepted") Object.assign(model, expected.next)
  assertMatchesModel(real, model)
}

/** What one generated step does, as plain data (so the coverage test can walk it without the real system). */
type Step =
  | { readonly kind: "send"; readonly command: NodeCommand }
  | { readonly kind: "steer"; readonly steer: Steer }
  | { readonly kind: "race"; readonly rival: NodeCommand; readonly command: NodeCommand }

class Send implements fc.Command<NodeModel, Real> {
  readonly command: NodeCommand
  constructor(command: NodeCommand) { this.command = command }
  check = () => true
  run(model: NodeModel, real: Real) { send(model, real, this.command) }
  toString = () => describeCommand(this.command)
}

/** Takes one edge out of the model's current state; its commands are checked like any other. */
class Steering implements fc.Command<NodeModel, Real> {
  readonly step: Extract<Step, { kind: "steer" }>
  constructor(step: Extract<Step, { kind: "steer" }>) { this.step = step }
  check = () => true
  run(model: NodeModel, real: Real) {
    for (const c of steerCommands(model, this.step.steer)) send(model, real, c)
  }
  toString = () => `steer(${JSON.stringify(this.step.steer)})`
}

/**
 * Another writer appends `rival` after the command under test read the stream but before it
 * appended. The append must fail on its expected revision, and the command be decided again.
 */
class Raced implements fc.Command<NodeModel, Real> {
  readonly rival: NodeCommand
  readonly command: NodeCommand
  constructor(rival: NodeCommand, command: NodeCommand) {
    this.rival = rival
    this.command = command
  }
  check = () => true
  run(model: NodeModel, real: Real) {
    const { expected, final } = predictRace(model, this.rival, this.command)
    real.rival = this.rival
    const got = run(real, real.fleet, real.raced, this.command)
    if (real.rival !== null) Effect.runSync(runRival(real))
    if (expected.kind === "refused") {
      assert.ok(Result.isFailure(got) && got.failure._tag === "Refused", `expected a refusal, got ${JSON.stringify(got)}`)
      assert.equal(got.failure.error.code, expected.code)
    } else {
      assert.ok(Result.isSuccess(got), `expected acceptance, got ${JSON.stringify(got)}`)
      assert.equal(got.success.events.length, expected.emits ? (expected.count ?? 1) : 0)
    }
    Object.assign(model, final)
    assertMatchesModel(real, model)
  }
  toString = () => `race(${describeCommand(this.rival)} before ${describeCommand(this.command)})`
}

const commandArb = nodeCommandArb(pools)
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: commandArb.map((command) => ({ kind: "send" as const, command })) },
  { weight: 4, arbitrary: steerArb(pools).map((steer) => ({ kind: "steer" as const, steer })) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("race" as const), rival: commandArb, command: commandArb }) },
)
const toCommand = (s: Step): fc.Command<NodeModel, Real> =>
  s.kind === "send" ? new Send(s.command) : s.kind === "steer" ? new Steering(s) : new Raced(s.rival, s.command)

const maxSteps = 80
const enrollFirst = fc.option(enrollArb(pools), { freq: 6, nil: null })

test("random command sequences follow the model, stay in the table and leave refused streams untouched", () => {
  fc.assert(
    fc.property(enrollFirst, fc.commands([stepArb.map(toCommand)], { maxCommands: maxSteps, size: "max" }), (enroll, commands) => {
      const all = enroll === null ? [...commands] : [new Send(enroll), ...commands]
      fc.modelRun(() => ({ model: { ...emptyModel } as NodeModel, real: newReal() }), all)
    }),
    { numRuns: 300 },
  )
})

/** The model alone along a sequence of steps: the moves it makes and the commands it accepts. */
const walk = (enroll: NodeCommand | null, steps: ReadonlyArray<Step>, moves: Set<string>, accepted: Set<string>) => {
  let m: NodeModel = emptyModel
  const apply = (c: NodeCommand) => {
    const o = predict(m, c)
    const queued = m.queue.length
    if (c.type === "Request" && o.kind === "refused" && o.state !== m.state) moves.add("queue: refused for where it leads")
    if (o.kind !== "accepted") return
    accepted.add(c.type)
    if (o.next.state !== m.state) moves.add(`${m.state} -> ${o.next.state}`)
    const inner = c.type === "AsConductor" ? c.command : c
    if (o.next.queue.length > queued) moves.add("queue: queued")
    else if (inner.type === "StartQueued" && o.count === 2 && o.next.queue.length === queued - 1) moves.add("queue: started")
    else if (o.next.queue.length < queued) moves.add(`queue: dropped on ${inner.type === "Provision" ? inner.verb : inner.type}`)
    m = o.next
  }
  if (enroll !== null) apply(enroll)
  for (const s of steps) {
    if (s.kind === "send") apply(s.command)
    else if (s.kind === "steer") steerCommands(m, s.steer).forEach(apply)
    else m = predictRace(m, s.rival, s.command).final
  }
}

test("the generated sequences take every edge of the table and every kind of command", () => {
  // Guards the test above against a generator that never gets deep into the lifecycle.
  const moves = new Set<string>()
  const accepted = new Set<string>()
  fc.assert(
    fc.property(enrollFirst, fc.array(stepArb, { maxLength: maxSteps, size: "max" }), (enroll, steps) => {
      walk(enroll, steps, moves, accepted)
    }),
    { numRuns: 3000, seed: 1 },
  )
  assert.deepEqual(transitions.map((t) => `${t.from} -> ${t.to}`).filter((e) => !moves.has(e)), [])
  const kinds: ReadonlyArray<NodeCommand["type"]> = [
    "Enroll", "Update", "Delete", "AddPort", "RemovePort", "SetMaintenance", "Provision", "Deploy", "AwaitCallback",
    "AcceptIscsi", "AcceptCallback", "RejectCallback", "TimeOutWait", "Complete", "Fail", "RequestHardware",
    "RecordHardware", "ObservePower", "AcquireLease", "ReleaseLease", "AsConductor", "IssueRamdiskKey", "AcceptCleaningIscsi",
    "Request", "StartQueued", "AcceptInventory", "AcceptRescueReady",
  ]
  assert.deepEqual(kinds.filter((k) => !accepted.has(k)), [])
  // And the queue's rules: requests wait, start in turn, are refused for the state they lead to, are dropped.
  const queueMoves = ["queued", "started", "refused for where it leads", "dropped on Fail", "dropped on abort", "dropped on StartQueued"]
  assert.deepEqual(queueMoves.filter((q) => !moves.has(`queue: ${q}`)), [], [...moves].filter((q) => q.startsWith("queue")).join(", "))
})

// A discovered node (ADR 0090) begins with one append (its record, the mark, the inventory, a port
// per MAC) and then follows the same table as an enrolled one; a second discovery of it, or of a
// stream that holds a node already, is refused and leaves the stream as it was.
test("discovered nodes follow the model from their first append, and a node is never discovered twice", () => {
  const discover = discoverArb(pools)
  const again = discover.map((command) => new Send(command))
  fc.assert(
    fc.property(discover, fc.commands([stepArb.map(toCommand), again], { maxCommands: 40, size: "max" }), (first, commands) => {
      fc.modelRun(() => ({ model: { ...emptyModel } as NodeModel, real: newReal() }), [new Send(first), ...commands])
    }),
    { numRuns: 80 },
  )
  const moves = new Set<string>()
  const accepted = new Set<string>()
  fc.assert(fc.property(discover, fc.array(stepArb, { maxLength: 40 }), (first, steps) => walk(first, steps, moves, accepted)), { numRuns: 500, seed: 1 })
  for (const edge of ["enroll -> verifying", "verifying -> manageable", "manageable -> inspecting"]) assert.ok(moves.has(edge), `no discovered node took ${edge}`)
  assert.ok(accepted.has("Discover"))
})
