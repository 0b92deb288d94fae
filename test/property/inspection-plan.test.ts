// Inspection's transitions driven purely (decide + evolve + the conductor's plan, ADR 0058): from
// manageable, with random inventories, ramdisks that post, stay silent (the wait times out) or are
// aborted. With the "agent" inspect interface every inspection ends in manageable with the
// inventory's properties and a port for each new MAC (once), its changes recorded before/after, or
// in inspect failed powered off with the PXE config gone; "instant" (fake) boots nothing at all.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import * as E from "fp-ts/lib/Either.js"
import { plan } from "../../src/application/conductor/plan.ts"
import { inspectedProperties, parseInventory } from "../../src/application/inspection/inventory.ts"
import {
  decide, initialState,
  type Mac, type NodeCommand, type NodeEvent, type NodeState, type Uuid,
} from "../../src/domain/index.ts"
import { pureNode, stepSucceeded } from "../support/pure-node.ts"

const nodeId = "00000000-0000-4000-8000-00000000abcd" as Uuid
const GiB = 1024 ** 3
const { apply } = pureNode(nodeId)

const macs = ["52:54:00:00:00:01", "52:54:00:00:00:02", "52:54:00:00:00:03"]
const inventoryArb = fc.record({
  cpu: fc.record({ count: fc.integer({ min: 1, max: 256 }), architecture: fc.constantFrom("x86_64", "aarch64") }),
  memory: fc.record({ physical_mb: fc.integer({ min: 1, max: 4 * 1024 * 1024 }) }),
  disks: fc.array(fc.record({ name: fc.constantFrom("sda", "sdb", "vda", "nvme0n1"), size: fc.integer({ min: 0, max: 64 }).map((g) => g * GiB + 512) }), { maxLength: 4 }),
  interfaces: fc.array(fc.record({ name: fc.constant("eth"), mac_address: fc.constantFrom(...macs), has_carrier: fc.boolean() }), { maxLength: 3 }),
})
type Ramdisk = { kind: "posts"; inventory: Record<string, unknown>; rootDisk?: string } | { kind: "silent" } | { kind: "aborted" }
const ramdiskArb: fc.Arbitrary<Ramdisk> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(inventoryArb, fc.option(fc.constantFrom("sda", "vda", "missing"), { nil: undefined }))
      .map(([inventory, rootDisk]) => ({ kind: "posts" as const, inventory, ...(rootDisk === undefined ? {} : { rootDisk }) })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "silent" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "aborted" as const }) },
)

/** One inspection driven to its end; its events. */
const inspect = (start: NodeState, style: "agent" | "instant", ramdisk: Ramdisk) => {
  let s = start
  const events: NodeEvent[] = []
  const record = (c: NodeCommand) => { const r = apply(s, c); s = r.state; events.push(...r.events); return r.events.length }
  assert.ok(record({ type: "Provision", verb: "inspect" }) > 0)
  for (let i = 0; i < 60; i++) {
    // The ramdisk, once the machine is on and waited for: posts, stays silent (time passes), or an operator aborts.
    const waiting = s.provisionState === "inspect wait" && s.pendingSteps.length === 0 && s.powerState === "power on"
    const now = waiting && ramdisk.kind === "silent" ? 1e13 : 0
    if (waiting && ramdisk.kind === "posts") {
      // As the service hands them: an id for each MAC of the inventory (the domain skips those the node has).
      const posted = (ramdisk.inventory["interfaces"] as Array<{ mac_address: string }>).map((n) => n.mac_address)
      const newPorts = macs.filter((m) => posted.includes(m)).map((mac) => ({ portId: `00000000-0000-4000-8000-00000000000${macs.indexOf(mac)}` as Uuid, mac: mac as Mac }))
      const rootDisk = ramdisk.rootDisk === undefined ? {} : { rootDisk: ramdisk.rootDisk }
      assert.ok(record({ type: "AcceptInventory", inventory: ramdisk.inventory, ...rootDisk, newPorts }) > 0)
      // Taken once: a second post of the same inspection is refused.
      assert.ok(E.isLeft(decide(s, { type: "AcceptInventory", inventory: ramdisk.inventory, newPorts }, nodeId)))
    }
    if (waiting && ramdisk.kind === "aborted") assert.ok(record({ type: "Provision", verb: "abort" }) > 0)
    const p = plan(s, { now, callbackTimeoutMs: 1000, mayStartDeploy: () => true, deployStyle: "ramdisk", automatedClean: false, cleanSteps: [], inspectStyle: style })
    switch (p.kind) {
      case "idle": return { state: s, events }
      case "request": record({ type: "RequestHardware", request: p.request }); break
      case "perform": record({ type: "RecordHardware", result: stepSucceeded(p.request) }); break
      case "verify": assert.fail("no verify while inspecting")
      case "issueRamdiskKey": record({ type: "IssueRamdiskKey", keyHash: "k", sealedKey: { $sealed: "k" } }); break
      case "command": if (record(p.command) === 0) assert.fail(`the plan's ${p.command.type} was refused in ${s.provisionState}`)
    }
  }
  return assert.fail(`no end: ${s.provisionState}`)
}

test("inspections end in manageable with the inventory's properties and ports, or failed and cleaned up; fake boots nothing", () => {
  fc.assert(fc.property(
    fc.constantFrom("agent" as const, "instant" as const),
    fc.subarray(macs, { maxLength: 2 }),
    fc.array(ramdiskArb, { minLength: 1, maxLength: 4 }),
    (style, enrolledMacs, ramdisks) => {
      let s = apply(initialState(nodeId), { type: "Enroll", nodeId, name: null, driver: "any", driverInfo: {}, properties: { cpus: 1 }, instanceInfo: {}, extra: {} }).state
      enrolledMacs.forEach((mac, k) => { s = apply(s, { type: "AddPort", portId: `00000000-0000-4000-8000-0000000000a${k}` as Uuid, mac: mac as Mac }).state })
      s = apply(s, { type: "Provision", verb: "manage" }).state
      s = apply(s, { type: "Complete" }).state
      assert.equal(s.provisionState, "manageable")
      for (const ramdisk of ramdisks) {
        const before = s
        const { state, events } = inspect(s, style, ramdisk)
        s = state
        assert.equal(s.targetProvisionState, null)
        assert.deepEqual(s.pendingSteps, [])
        const types = events.map((e) => e.type)
        if (style === "instant") {
          assert.equal(s.provisionState, "manageable")
          assert.deepEqual(types.filter((t) => t !== "InspectRequested" && t !== "Inspected"), [], "fake inspection boots nothing")
          continue
        }
        if (ramdisk.kind !== "posts") {
          assert.equal(s.provisionState, "inspect failed")
          assert.equal(s.powerState, "power off")
          assert.equal(events.filter((e) => e.type === "BootConfigRequested").at(-1)?.data.label, null, "the PXE config is removed")
          assert.deepEqual(s.properties, before.properties)
          s = apply(s, { type: "Provision", verb: "manage" }).state
          continue
        }
        assert.equal(s.provisionState, "manageable")
        assert.equal(s.powerState, "power off")
        const inventory = parseInventory(ramdisk.inventory)
        assert.ok(E.isRight(inventory))
        const expected = { ...before.properties, ...inspectedProperties(inventory.right, before.properties, ramdisk.rootDisk) }
        assert.deepEqual(s.properties, expected)
        const inspected = events.find((e) => e.type === "Inspected")!
        assert.ok(inspected.type === "Inspected")
        const changed = Object.keys(expected).filter((k) => JSON.stringify(before.properties[k] ?? null) !== JSON.stringify(expected[k]))
        assert.deepEqual(inspected.data.changes?.map((c) => c.property).sort(), changed.sort())
        for (const c of inspected.data.changes ?? []) assert.deepEqual([c.before, c.after], [before.properties[c.property] ?? null, expected[c.property]])
        const want = new Set([...before.ports.map((p) => p.mac as string), ...ramdisk.inventory["interfaces"] as Array<{ mac_address: string }>].map((x) => typeof x === "string" ? x : x.mac_address))
        assert.deepEqual(s.ports.map((p) => p.mac as string).sort(), [...want].sort())
        assert.deepEqual(s.inventory?.data, ramdisk.inventory)
      }
    },
  ), { numRuns: 300 })
})
