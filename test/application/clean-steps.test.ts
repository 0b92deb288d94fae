// The cleaning-step runner on simulated machines: manual clean_steps checked against what the
// node's interfaces offer, in-band steps run by the (simulated) ramdisk over its keyed calls,
// out-of-band ones through the interface, each a requested/result pair with its summary; failures,
// abort in clean wait, and the automated default.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import type { EnrollInput } from "../../src/application/node-service.ts"
import { startTestApp, type TestApp } from "../support/app.ts"
import { readAt } from "../../src/adapters/sim/machine/disk.ts"

const MiB = 1024 * 1024
let macs = 0
const simNode = (name: string, driver = "sim"): EnrollInput => ({
  name: name as never, driver, driverInfo: {}, properties: { local_gb: 1 }, instanceInfo: {}, extra: {},
})

const enrollManageable = async (app: TestApp, name: string, driver = "sim") => {
  const node = await app.run(app.service.enroll(simNode(name, driver), "test"))
  await app.run(app.service.addPort({ nodeRef: node.uuid, mac: `52:54:00:00:01:${(++macs).toString(16).padStart(2, "0")}` as never }, "test"))
  await app.run(app.service.provision(node.uuid, "manage", {}, "test"))
  await app.waitFor(node.uuid, "manageable")
  return node
}

const historyOf = async (app: TestApp, ref: string) => app.run(app.service.history(ref, { limit: 10_000 }))
const refusal = async (app: TestApp, eff: Effect.Effect<unknown, { message: string }, never>) =>
  (await app.run(Effect.flip(eff as never))) as { _tag: string; message: string }

describe("clean steps on simulated machines", () => {
  let app: TestApp
  before(async () => { app = await startTestApp({ diskBytes: 32 * MiB }) })
  after(async () => { await app.close() })

  test("deploy.erase_devices from manageable: the ramdisk overwrites every byte; a requested/result pair with its summary", async () => {
    const node = await enrollManageable(app, "erase-1")
    // The ramdisk creates the disk file as it boots: fill it with an old tenant's bytes first.
    const disk = app.diskOf(node.uuid)
    const { writeFileSync } = await import("node:fs")
    writeFileSync(disk, Buffer.alloc(32 * MiB, 0xab))
    await app.run(app.service.provision(node.uuid, "clean", { cleanSteps: [{ interface: "deploy", step: "erase_devices" }] }, "test"))
    const back = await app.waitFor(node.uuid, "manageable")
    assert.equal(back.lastError, null)
    for (let at = 0; at < 32 * MiB; at += 4 * MiB) {
      assert.ok(readAt(disk, at, 4 * MiB).every((b) => b === 0), `bytes from ${at} are zero`)
    }
    const h = await historyOf(app, node.uuid)
    const asked = h.filter((e) => e.event === "CleanStepRequested")
    const done = h.filter((e) => e.event === "CleanStepDone")
    assert.deepEqual(asked.map((e) => e.data["name"]), ["deploy.erase_devices"])
    assert.equal(asked[0]!.data["where"], "in-band")
    assert.equal(done.length, 1)
    assert.equal(done[0]!.actor, "ramdisk")
    assert.equal(typeof done[0]!.durationMs, "number")
    assert.match(String(done[0]!.data["summary"]), /overwrote 33554432 bytes/)
    assert.ok(h.some((e) => e.event === "ManualCleaningDone"))
  })

  test("steps the node's interfaces do not offer, unknown or missing arguments, and an empty list are refused", async () => {
    const node = await enrollManageable(app, "refuse-1")
    const clean = (cleanSteps: ReadonlyArray<Record<string, unknown>>) =>
      refusal(app, app.service.provision(node.uuid, "clean", { cleanSteps: cleanSteps as never }, "test") as never)
    const unknown = await clean([{ interface: "deploy", step: "erase_everything" }])
    assert.equal(unknown._tag, "InvalidInput")
    assert.match(unknown.message, /deploy\.erase_everything is not offered.*deploy\.erase_devices_metadata/)
    assert.match((await clean([{ interface: "bios", step: "apply_configuration" }])).message, /not offered/)
    assert.match((await clean([{ interface: "deploy", step: "erase_devices", args: { passes: 3 } }])).message, /takes no argument passes/)
    assert.match((await clean([])).message, /at least one step/)
    assert.equal((await app.run(app.service.get(node.uuid))).provisionState, "manageable")
  })

  test("out-of-band steps run through the interface; a failing one fails the cleaning with its message", async () => {
    const node = await enrollManageable(app, "bios-1", "fake-hardware")
    const settings = [{ name: "BootMode", value: "Uefi" }]
    await app.run(app.service.provision(node.uuid, "clean", { cleanSteps: [{ interface: "bios", step: "apply_configuration", args: { settings } }] }, "test"))
    await app.waitFor(node.uuid, "manageable")
    const done = (await historyOf(app, node.uuid)).find((e) => e.event === "CleanStepDone")!
    assert.equal(done.actor, "conductor")
    assert.deepEqual(done.data["details"], { applied: { BootMode: "Uefi" } })

    await app.run(app.service.provision(node.uuid, "clean", {
      cleanSteps: [{ interface: "bios", step: "apply_configuration", args: { settings: "BootMode=Uefi" } }, { interface: "bios", step: "factory_reset" }],
    }, "test"))
    const failed = await app.waitFor(node.uuid, "clean failed")
    assert.match(failed.lastError ?? "", /settings must be a list/)
    const h = await historyOf(app, node.uuid)
    assert.equal(h.filter((e) => e.event === "CleanStepRequested" && e.data["name"] === "bios.factory_reset").length, 0, "no step after the failed one")
  })

  test("automated cleaning on provide runs the configured default, deploy.erase_devices_metadata", async () => {
    const node = await enrollManageable(app, "auto-1")
    await app.run(app.service.provision(node.uuid, "provide", {}, "test"))
    await app.waitFor(node.uuid, "available")
    const asked = (await historyOf(app, node.uuid)).filter((e) => e.event === "CleanStepRequested").map((e) => e.data["name"])
    assert.deepEqual(asked, ["deploy.erase_devices_metadata"])
  })
})

describe("clean steps with a ramdisk the test speaks for", () => {
  let app: TestApp
  before(async () => { app = await startTestApp({ diskBytes: 8 * MiB, agentRuns: false }) })
  after(async () => { await app.close() })

  const waitForAgent = async (nodeId: string) => {
    for (let i = 0; i < 500; i++) {
      const held = app.heldAgents.find((a) => a.nodeId === nodeId)
      if (held !== undefined) return held
      await new Promise((r) => setTimeout(r, 10))
    }
    throw new Error("the cleaning ramdisk never asked for a step")
  }

  test("the ramdisk's failure fails the cleaning with its message; a wrong key learns nothing", async () => {
    const node = await enrollManageable(app, "agent-fail")
    await app.run(app.service.provision(node.uuid, "clean", { cleanSteps: [{ interface: "deploy", step: "erase_devices" }] }, "test"))
    const { key } = await waitForAgent(node.uuid)
    await app.waitFor(node.uuid, "clean wait")
    assert.equal((await refusal(app, app.service.nextCleanStep(node.uuid, "not-the-key") as never))._tag, "NodeNotFound")
    const next = await app.run(app.service.nextCleanStep(node.uuid, key))
    assert.equal(next.kind, "step")
    if (next.kind !== "step") return
    assert.equal(next.name, "deploy.erase_devices")
    await app.run(app.service.cleanStepResult(node.uuid, key, { step: next.step, error: "dd: /dev/sda: I/O error", summary: "failed" }))
    const failed = await app.waitFor(node.uuid, "clean failed")
    assert.equal(failed.lastError, "deploy.erase_devices: dd: /dev/sda: I/O error")
    assert.equal(failed.powerState, "power off", "the failed cleaning is cleaned up")
    assert.equal((await refusal(app, app.service.nextCleanStep(node.uuid, key) as never))._tag, "NodeNotFound")
  })

  test("abort in clean wait fails the cleaning and forgets the step the ramdisk was given", async () => {
    const node = await enrollManageable(app, "agent-abort")
    await app.run(app.service.provision(node.uuid, "clean", { cleanSteps: [{ interface: "deploy", step: "erase_devices" }] }, "test"))
    const { key } = await waitForAgent(node.uuid)
    await app.waitFor(node.uuid, "clean wait")
    assert.equal((await app.run(app.service.nextCleanStep(node.uuid, key))).kind, "step")
    await app.run(app.service.provision(node.uuid, "abort", {}, "test"))
    const aborted = await app.waitFor(node.uuid, "clean failed")
    assert.equal(aborted.powerState, "power off")
    assert.equal((await refusal(app, app.service.nextCleanStep(node.uuid, key) as never))._tag, "NodeNotFound")
  })
})
