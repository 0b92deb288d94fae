// The domain's rules for cleaning steps: the steps asked for travel with the clean request; an
// in-band step's outcome resumes a clean wait and nothing else; a cleaning that ends (abort,
// timeout) forgets the in-band step the ramdisk was given, so no conductor ever carries it out.
import { test } from "node:test"
import assert from "node:assert/strict"
import * as E from "fp-ts/lib/Either.js"
import { decide, evolve, initialState, isInBand, type NodeCommand, type NodeState, type Uuid } from "../../../src/domain/index.ts"
import { metaAt } from "../../support/fleet-log.ts"

const nodeId = "00000000-0000-4000-8000-0000000c1ea0" as Uuid
let at = 0
const apply = (s: NodeState | null, c: NodeCommand): NodeState => {
  const d = decide(s, c, nodeId)
  if (E.isLeft(d)) throw new Error(d.left.message)
  let state = s ?? initialState(nodeId)
  for (const e of d.right) state = evolve(state, e, metaAt(++at))
  return state
}

const manageable = () => {
  let s = apply(null, { type: "Enroll", nodeId, name: null, driver: "sim", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {} })
  s = apply(s, { type: "Provision", verb: "manage" })
  return apply(s, { type: "Complete" })
}

const inClean = () => {
  let s = apply(manageable(), { type: "Provision", verb: "clean", cleanSteps: [{ interface: "deploy", step: "erase_devices", args: {} }] })
  assert.deepEqual(s.operation?.cleanSteps, [{ interface: "deploy", step: "erase_devices", args: {} }])
  s = apply(s, { type: "RequestHardware", request: { type: "CleanStepRequested", data: { step: "s0", name: "deploy.erase_devices", args: {}, where: "in-band" } } })
  return apply(s, { type: "AwaitCallback", deadline: "2030-01-01T00:00:00.000Z" })
}

test("an in-band step's outcome resumes the clean wait it ran in", () => {
  const s = inClean()
  assert.equal(s.provisionState, "clean wait")
  assert.ok(isInBand(s.pendingSteps[0]!))
  const done = apply(s, { type: "RecordHardware", result: { type: "CleanStepDone", data: { step: "s0", durationMs: 5, summary: "zeroed" } } })
  assert.equal(done.provisionState, "cleaning")
  assert.deepEqual(done.pendingSteps, [])
  assert.deepEqual(done.operation?.steps, [{ step: "s0", outcome: "ok" }])
  const failed = apply(s, { type: "RecordHardware", result: { type: "CleanStepFailed", data: { step: "s0", durationMs: 5, error: "I/O error" } } })
  assert.equal(failed.provisionState, "cleaning")
  assert.equal(failed.lastError, "I/O error")
})

test("a clean step's outcome recorded outside clean wait moves nothing", () => {
  let s = apply(manageable(), { type: "Provision", verb: "clean" })
  s = apply(s, { type: "RequestHardware", request: { type: "CleanStepRequested", data: { step: "s1", name: "bios.factory_reset", args: {}, where: "out-of-band" } } })
  const done = apply(s, { type: "RecordHardware", result: { type: "CleanStepDone", data: { step: "s1", durationMs: 5, summary: "reset" } } })
  assert.equal(done.provisionState, "cleaning")
})

test("abort and a timed-out wait forget the in-band step; an out-of-band one is left to its conductor", () => {
  const aborted = apply(inClean(), { type: "Provision", verb: "abort" })
  assert.equal(aborted.provisionState, "clean failed")
  assert.deepEqual(aborted.pendingSteps, [])
  const timedOut = apply(inClean(), { type: "TimeOutWait", now: "2031-01-01T00:00:00.000Z" })
  assert.equal(timedOut.provisionState, "clean failed")
  assert.deepEqual(timedOut.pendingSteps, [])
})
