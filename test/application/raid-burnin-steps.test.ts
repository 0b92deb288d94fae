// Burn-in and software RAID steps on simulated machines (ADR 0100, 0101): the burn-in steps take
// their durations under Ironic's names and record the tools' figures; raid.create_configuration
// builds the node's target_raid_config and its result is the node's raid_config, cleared again by
// raid.delete_configuration; a target the machine can not build fails the cleaning with the step's
// message; the clean wait lasts the step's duration longer.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import type { EnrollInput } from "../../src/application/node-service.ts"
import { startTestApp, type TestApp } from "../support/app.ts"

const MiB = 1024 * 1024
let macs = 0
const simNode = (name: string): EnrollInput => ({
  name: name as never, driver: "sim", driverInfo: {}, properties: { local_gb: 1 }, instanceInfo: {}, extra: {}, interfaces: { raid: "agent" },
})

const enrollManageable = async (app: TestApp, name: string) => {
  const node = await app.run(app.service.enroll(simNode(name), "test"))
  await app.run(app.service.addPort({ nodeRef: node.uuid, mac: `52:54:00:00:0b:${(++macs).toString(16).padStart(2, "0")}` as never }, "test"))
  await app.run(app.service.provision(node.uuid, "manage", {}, "test"))
  await app.waitFor(node.uuid, "manageable")
  return node
}
const historyOf = async (app: TestApp, ref: string) => app.run(app.service.history(ref, { limit: 10_000 }))

describe("burn-in and RAID steps on simulated machines", () => {
  let app: TestApp
  before(async () => { app = await startTestApp({ diskBytes: 32 * MiB }) })
  after(async () => { await app.close() })

  test("burn-in steps record the tools' figures; RAID-0 becomes raid_config, delete_configuration clears it", async () => {
    const node = await enrollManageable(app, "burnin-1")
    await app.run(app.service.update(node.uuid, { targetRaidConfig: { logical_disks: [{ size_gb: "MAX", raid_level: "0", controller: "software", is_root_volume: true }] } }, "test"))
    await app.run(app.service.provision(node.uuid, "clean", { cleanSteps: [
      { interface: "deploy", step: "burnin_cpu", args: { agent_burnin_cpu_timeout: 3 } },
      { interface: "deploy", step: "burnin_memory", args: { agent_burnin_vm_timeout: 4, "agent_burnin_vm_vm-bytes": "16M" } },
      { interface: "deploy", step: "burnin_disk", args: { agent_burnin_fio_disk_runtime: 2 } },
      { interface: "raid", step: "create_configuration" },
    ] }, "test"))
    const back = await app.waitFor(node.uuid, "manageable")
    assert.equal(back.lastError, null)
    const done = (await historyOf(app, node.uuid)).filter((e) => e.event === "CleanStepDone").map((e) => e.data)
    assert.equal(done.length, 4)
    assert.equal((done[0]!["details"] as Record<string, unknown>)["bogo_ops"], 3 * 1200)
    assert.match(String(done[1]!["summary"]), /memtester: 2 pass\(es\) over 16 MiB/)
    assert.match(String(done[2]!["summary"]), /fio on 1 disk\(s\): read \d+ IOPS/)
    const asked = (await historyOf(app, node.uuid)).filter((e) => e.event === "CleanStepRequested").map((e) => e.data)
    // The array to build travels with the request: what the history shows is what was built.
    assert.deepEqual(asked[3]!["args"], { raid_level: "0", raid_size_mib: "MAX", raid_volume_name: "root" })
    const raid = back.raidConfig as { logical_disks: ReadonlyArray<Record<string, unknown>> }
    assert.deepEqual(raid.logical_disks.map((d) => [d["raid_level"], d["controller"], d["physical_disks"]]), [["0", "software", ["sda"]]])

    await app.run(app.service.provision(node.uuid, "clean", { cleanSteps: [{ interface: "raid", step: "delete_configuration" }] }, "test"))
    assert.deepEqual((await app.waitFor(node.uuid, "manageable")).raidConfig, {})
  })

  test("a target the machine can not build, or none, fails the cleaning with the step's message", async () => {
    const node = await enrollManageable(app, "raid1-on-one-disk")
    await app.run(app.service.update(node.uuid, { targetRaidConfig: { logical_disks: [{ size_gb: "MAX", raid_level: "1" }] } }, "test"))
    const create = [{ interface: "raid", step: "create_configuration" }]
    await app.run(app.service.provision(node.uuid, "clean", { cleanSteps: create }, "test"))
    const failed = await app.waitFor(node.uuid, "clean failed")
    assert.equal(failed.lastError, "raid.create_configuration: RAID-1 needs at least 2 disks; this machine has 1 (sda)")
    assert.deepEqual(failed.raidConfig, {})

    const none = await enrollManageable(app, "raid-none")
    await app.run(app.service.provision(none.uuid, "clean", { cleanSteps: create }, "test"))
    assert.match(String((await app.waitFor(none.uuid, "clean failed")).lastError), /^raid\.create_configuration: the node has no target_raid_config/)
  })

  test("a burn-in argument that is no number of seconds fails the step with its message", async () => {
    const node = await enrollManageable(app, "burnin-bad")
    await app.run(app.service.provision(node.uuid, "clean", { cleanSteps: [{ interface: "deploy", step: "burnin_cpu", args: { agent_burnin_cpu_timeout: "soon" } }] }, "test"))
    assert.match(String((await app.waitFor(node.uuid, "clean failed")).lastError), /^deploy\.burnin_cpu: agent_burnin_cpu_timeout must be a whole number of seconds/)
  })
})
