// The application end to end on fake hardware: the conductor drives nodes through the saga, the
// ramdisk call-back is checked, failures clean up, and every step is in the node's history.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import type { EnrollInput } from "../../src/application/node-service.ts"
import { startTestApp, type TestApp } from "../support/app.ts"
import { readAt } from "../../src/adapters/sim/machine/disk.ts"

const fakeNode = (name: string, instanceInfo: Record<string, unknown> = {}): EnrollInput => ({
  name: name as never, driver: "sim", driverInfo: {}, properties: { local_gb: 4 }, instanceInfo, extra: {},
})

/** Each node its own MAC: random ones out of 256 met twice in one run now and then. */
let macs = 0

const enrollAvailable = async (app: TestApp, name: string, instanceInfo: Record<string, unknown> = {}) => {
  const node = await app.run(app.service.enroll(fakeNode(name, instanceInfo), "test"))
  await app.run(app.service.addPort({ nodeRef: node.uuid, mac: `52:54:00:00:00:${(++macs).toString(16).padStart(2, "0")}` as never }, "test"))
  await app.run(app.service.provision(node.uuid, "manage", {}, "test"))
  await app.waitFor(node.uuid, "manageable")
  await app.run(app.service.provision(node.uuid, "provide", {}, "test"))
  await app.waitFor(node.uuid, "available")
  return node
}

const readHead = (path: string, bytes: number) => readAt(path, 0, bytes)

const eventsOf = async (app: TestApp, ref: string) => (await app.run(app.service.history(ref, { limit: 10_000 }))).map((e) => e.event)

/** The saga's events in order (other events may sit between them). */
const assertInOrder = (events: ReadonlyArray<string>, expected: ReadonlyArray<string>) => {
  let at = 0
  for (const e of expected) {
    const found = events.indexOf(e, at)
    assert.ok(found >= 0, `expected ${e} after position ${at} in ${events.join(", ")}`)
    at = found + 1
  }
}

describe("deploy flow on fake hardware", () => {
  let app: TestApp
  before(async () => { app = await startTestApp() })
  after(async () => { await app.close() })

  test("enroll -> manage -> provide -> deploy -> active -> undeploy -> available, every step recorded", async () => {
    const node = await enrollAvailable(app, "flow-1")
    await app.run(app.service.provision(node.uuid, "active", {}, "alice"))
    const active = await app.waitFor(node.uuid, "active")
    assert.equal(active.powerState, "power on")
    assert.equal(active.lastError, null)
    await app.run(app.service.provision(node.uuid, "deleted", {}, "alice"))
    const back = await app.waitFor(node.uuid, "available")
    assert.equal(back.powerState, "power off")
    assert.deepEqual(back.instanceInfo, {})
    const events = await eventsOf(app, node.uuid)
    assertInOrder(events, [
      "Enrolled", "PortAdded", "ManageRequested", "PowerStateObserved", "Verified", "ProvideRequested", "CleaningDone",
      "DeployRequested", "BootConfigRequested", "BootConfigWritten", "BootDeviceRequested", "BootDeviceSet",
      "CallbackAwaited", "PowerOnRequested", "PowerStateChanged", "IscsiReady", "ImageWriteRequested", "ImageWritten",
      "RamdiskReleaseRequested", "RamdiskReleased", "BootConfigRequested", "BootConfigWritten", "RebootRequested",
      "PowerStateChanged", "DeployDone", "UndeployRequested", "PowerOffRequested", "PowerStateChanged",
      "BootConfigRequested", "BootConfigWritten", "TearDownDone",
      // The cleaning boots the ramdisk again, which wipes the disk's metadata (an in-band step).
      "RamdiskKeyIssued", "BootConfigRequested", "BootConfigWritten", "BootDeviceRequested", "BootDeviceSet",
      "CallbackAwaited", "PowerOnRequested", "PowerStateChanged", "RamdiskReady", "CleanStepRequested", "CallbackAwaited", "CleanStepDone",
      "RamdiskReleaseRequested", "RamdiskReleased", "PowerOffRequested", "PowerStateChanged",
      "BootConfigRequested", "BootConfigWritten", "CleaningDone",
    ])
    const history = await app.run(app.service.history(node.uuid, { limit: 10_000 }))
    const written = history.find((e) => e.event === "ImageWritten")!
    assert.equal(typeof written.durationMs, "number")
    assert.ok(history.every((e) => e.actor.length > 0 && e.correlationId.length > 0))
    // The deploy's steps share one correlation id: an auditor can pull one operation out of the log.
    const deploySteps = history.filter((e) => e.revision >= history.find((h) => h.event === "DeployRequested")!.revision &&
      e.revision <= history.find((h) => h.event === "DeployDone")!.revision)
    assert.equal(new Set(deploySteps.map((e) => e.correlationId)).size, 1)
  })

  test("a whole-disk image lands on the node's disk, and undeploy wipes its partition table", async () => {
    const image = new Uint8Array(1024 * 1024)
    image.set([0x55, 0xaa], 510)
    image.fill(0xab, 4096, 65536)
    const info = await app.run(app.sim.images.importBytes(image))
    const node = await enrollAvailable(app, "flow-disk", { image_source: info.id })
    await app.run(app.service.provision(node.uuid, "active", {}, "test"))
    await app.waitFor(node.uuid, "active")
    const disk = app.diskOf(node.uuid)
    assert.deepEqual(readHead(disk, image.length), Buffer.from(image))
    await app.run(app.service.provision(node.uuid, "deleted", {}, "test"))
    await app.waitFor(node.uuid, "available")
    const head = readHead(disk, 64 * 1024)
    assert.ok(head.subarray(0, 18 * 1024).every((b) => b === 0), "the first 18 KiB (MBR and partition metadata) are wiped")
    assert.ok(head.subarray(18 * 1024).some((b) => b === 0xab), "the wipe touches metadata only")
  })

  test("a deleted node's history and past states stay readable by UUID; the node itself is gone", async () => {
    const node = await app.run(app.service.enroll(fakeNode("flow-deleted"), "test"))
    const enrolledAt = (await app.run(app.service.history(node.uuid, { limit: 10 })))[0]!.occurredAt
    await app.run(app.service.remove(node.uuid, "test"))
    assert.equal((await app.run(Effect.flip(app.service.get(node.uuid))))._tag, "NodeNotFound")
    assert.deepEqual((await eventsOf(app, node.uuid)), ["Enrolled", "NodeDeleted"])
    assert.equal((await app.run(app.service.stateAt(node.uuid, enrolledAt))).provisionState, "enroll")
  })

  test("an invalid transition is refused with the node, action and state, and records nothing", async () => {
    const node = await app.run(app.service.enroll(fakeNode("flow-2"), "test"))
    const before = await eventsOf(app, node.uuid)
    const refused = await app.run(Effect.flip(app.service.provision(node.uuid, "provide", {}, "test")))
    assert.equal(refused._tag, "Refused")
    assert.match(refused.message, new RegExp(`"provide" can not be performed on node "${node.uuid}" while it is in state "enroll"`))
    assert.deepEqual(await eventsOf(app, node.uuid), before)
  })

  test("power actions on an active node go through requested/result pairs", async () => {
    const node = await enrollAvailable(app, "flow-3")
    await app.run(app.service.provision(node.uuid, "active", {}, "test"))
    await app.waitFor(node.uuid, "active")
    await app.run(app.service.power(node.uuid, "power off", "test"))
    await app.run(app.conductor.settle)
    assert.equal((await app.run(app.service.get(node.uuid))).powerState, "power off")
    await app.run(app.service.power(node.uuid, "rebooting", "test"))
    await app.run(app.conductor.settle)
    const on = await app.run(app.service.get(node.uuid))
    assert.equal(on.powerState, "power on")
    assert.equal(on.targetPowerState, null)
    assertInOrder(await eventsOf(app, node.uuid), ["DeployDone", "PowerOffRequested", "PowerStateChanged", "RebootRequested", "PowerStateChanged"])
  })
})

describe("ramdisk call-back rules", () => {
  let app: TestApp
  before(async () => { app = await startTestApp({ autoCallBack: false }) })
  after(async () => { await app.close() })

  const deployToWait = async (name: string) => {
    const node = await enrollAvailable(app, name)
    await app.run(app.service.provision(node.uuid, "active", {}, "test"))
    await app.waitFor(node.uuid, "wait call-back")
    // As long as waitFor gives a state (10 s): the call-back comes after the power-on, which a loaded machine may delay.
    for (let i = 0; i < 1000 && !app.heldCallbacks.some((c) => c.nodeId === node.uuid); i++) await new Promise((r) => setTimeout(r, 10))
    const held = app.heldCallbacks.find((c) => c.nodeId === node.uuid)
    assert.ok(held, "the simulated ramdisk booted and produced a call-back")
    return { node, callback: held.callback }
  }

  test("a wrong key is refused and recorded; the node keeps waiting; the right key then deploys; a replay finds no waiting node", async () => {
    const { node, callback } = await deployToWait("cb-1")
    const wrong = await app.run(Effect.flip(app.service.passDeployInfo(node.uuid, { ...callback, key: "not-the-key" })))
    assert.equal(wrong._tag, "Refused")
    assert.equal((await app.run(app.service.get(node.uuid))).provisionState, "wait call-back")
    assert.ok((await eventsOf(app, node.uuid)).includes("CallbackRejected"))
    await app.run(app.service.passDeployInfo(node.uuid, callback))
    await app.waitFor(node.uuid, "active")
    // Once active, the node waits for no ramdisk: a replay is answered as for a node that does not exist.
    const replay = await app.run(Effect.flip(app.service.passDeployInfo(node.uuid, callback)))
    assert.equal(replay._tag, "NodeNotFound")
    assert.equal((await app.run(app.service.get(node.uuid))).provisionState, "active")
  })

  test("a ramdisk error fails the deploy with its message, then the node is powered off and its PXE config removed", async () => {
    const { node, callback } = await deployToWait("cb-2")
    await app.run(app.service.passDeployInfo(node.uuid, { ...callback, error: "disk /dev/sda not found" }))
    await app.run(app.conductor.settle)
    const failed = await app.run(app.service.get(node.uuid))
    assert.equal(failed.provisionState, "deploy failed")
    assert.match(failed.lastError ?? "", /disk \/dev\/sda not found/)
    assert.equal(failed.powerState, "power off")
    assertInOrder(await eventsOf(app, node.uuid), ["DeployFailed", "PowerOffRequested", "PowerStateChanged", "BootConfigRequested", "BootConfigWritten"])
  })

  test("abort from wait call-back fails the deploy and cleans up", async () => {
    const { node } = await deployToWait("cb-3")
    await app.run(app.service.provision(node.uuid, "abort", {}, "test"))
    await app.run(app.conductor.settle)
    const aborted = await app.run(app.service.get(node.uuid))
    assert.equal(aborted.provisionState, "deploy failed")
    assert.equal(aborted.powerState, "power off")
  })
})

describe("wait timeouts", () => {
  let app: TestApp
  before(async () => { app = await startTestApp({ autoCallBack: false, conductor: { callbackTimeoutMs: 300 } }) })
  after(async () => { await app.close() })

  test("a ramdisk that never calls back is failed by the sweeper and cleaned up", async () => {
    const node = await enrollAvailable(app, "timeout-1")
    await app.run(app.service.provision(node.uuid, "active", {}, "test"))
    await app.waitFor(node.uuid, "deploy failed", 5000)
    await app.run(app.conductor.settle)
    const failed = await app.run(app.service.get(node.uuid))
    assert.match(failed.lastError ?? "", /timed out waiting for the ramdisk/)
    assert.equal(failed.powerState, "power off")
    assertInOrder(await eventsOf(app, node.uuid), ["CallbackAwaited", "WaitTimedOut", "PowerOffRequested", "PowerStateChanged", "BootConfigRequested"])
  })
})
