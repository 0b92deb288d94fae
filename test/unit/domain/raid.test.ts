// Properties of the RAID rules (src/domain/raid.ts) and of raid_config through the node's log:
// every configuration Ironic's schema allows is accepted and nothing else; the software RAID plan
// exists exactly for one logical disk of level 0 or 1 on the software controller; after any run of
// RAID step outcomes the node's raid_config is what the last successful create built, or {} after
// a later delete, whatever failed in between.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import * as E from "fp-ts/lib/Either.js"
import { checkTargetRaidConfig, decide, evolve, initialState, raidLevels, softwareRaidPlan, type NodeCommand, type NodeState, type Uuid } from "../../../src/domain/index.ts"
import { metaAt } from "../../support/fleet-log.ts"

const disk = fc.record({
  size_gb: fc.oneof(fc.constant("MAX" as const), fc.integer({ min: 1, max: 10_000 })),
  raid_level: fc.constantFrom(...raidLevels),
  is_root_volume: fc.option(fc.boolean(), { nil: undefined }),
  controller: fc.option(fc.constantFrom("software", "RAID.Integrated.1-1"), { nil: undefined }),
}).map((d) => Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)))

test("every logical disk list the schema allows is accepted; a broken one is refused with the field", () => {
  fc.assert(fc.property(fc.array(disk, { minLength: 1, maxLength: 4 }), (disks) => {
    const roots = disks.filter((d) => d["is_root_volume"] === true).length
    assert.equal(E.isRight(checkTargetRaidConfig({ logical_disks: disks })), roots <= 1)
  }))
  fc.assert(fc.property(fc.array(disk, { minLength: 1, maxLength: 3 }), fc.nat(2), fc.constantFrom(["size_gb", -1], ["raid_level", "3"], ["is_root_volume", "yes"]), (disks, i, [k, v]) => {
    const broken = disks.map((d, j) => (j === i % disks.length ? { ...d, [k as string]: v } : d))
    const r = checkTargetRaidConfig({ logical_disks: broken })
    assert.ok(E.isLeft(r) && r.left.includes(k as string), JSON.stringify(r))
  }))
})

test("the software RAID plans exactly one array of level 0 or 1 on the software controller", () => {
  fc.assert(fc.property(fc.array(disk, { minLength: 1, maxLength: 3 }), (disks) => {
    const plan = softwareRaidPlan({ logical_disks: disks })
    const d = disks[0]!
    const buildable = disks.length === 1 && ["0", "1"].includes(d["raid_level"] as string) && [undefined, "software"].includes(d["controller"] as string | undefined)
    assert.equal(E.isRight(plan), buildable)
    if (E.isRight(plan)) assert.equal(plan.right.raid_size_mib, d["size_gb"] === "MAX" ? "MAX" : String((d["size_gb"] as number) * 1024))
  }))
})

const nodeId = "00000000-0000-4000-8000-000000004a1d" as Uuid
type StepRun = { readonly name: "raid.create_configuration" | "raid.delete_configuration"; readonly ok: boolean; readonly level: string }

test("raid_config is what the last successful create built, {} after a later delete", () => {
  fc.assert(fc.property(fc.array(fc.record({
    name: fc.constantFrom("raid.create_configuration" as const, "raid.delete_configuration" as const), ok: fc.boolean(), level: fc.constantFrom("0", "1"),
  }), { maxLength: 8 }), (runs: ReadonlyArray<StepRun>) => {
    let at = 0
    const apply = (s: NodeState | null, c: NodeCommand): NodeState => {
      const d = decide(s, c, nodeId)
      if (E.isLeft(d)) throw new Error(d.left.message)
      let state = s ?? initialState(nodeId)
      for (const e of d.right) state = evolve(state, e, metaAt(++at))
      return state
    }
    let s = apply(null, { type: "Enroll", nodeId, name: null, driver: "sim", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {} })
    s = apply(s, { type: "Provision", verb: "manage" })
    s = apply(s, { type: "Complete" })
    let expected: Record<string, unknown> = {}
    runs.forEach((r, i) => {
      s = apply(s, { type: "Provision", verb: "clean" })
      const step = `op${i}:clean-step:0:${r.name}`
      s = apply(s, { type: "RequestHardware", request: { type: "CleanStepRequested", data: { step, name: r.name, args: {}, where: "in-band" } } })
      s = apply(s, { type: "AwaitCallback", deadline: "2030-01-01T00:00:00.000Z" })
      const built = { logical_disks: [{ raid_level: r.level, size_gb: 1, controller: "software" }] }
      s = apply(s, { type: "RecordHardware", result: r.ok
        ? { type: "CleanStepDone", data: { step, durationMs: 1, summary: "x", details: r.name === "raid.create_configuration" ? { raid_config: built } : {} } }
        : { type: "CleanStepFailed", data: { step, durationMs: 1, error: "failed" } } })
      if (r.ok) expected = r.name === "raid.create_configuration" ? built : {}
      assert.deepEqual(s.raidConfig, expected)
      // A failed step fails the cleaning (clean failed, with fault "clean failure" and maintenance, as
      // Ironic; the operator manages it again and clears maintenance); a good one completes it.
      if (r.ok) s = apply(s, { type: "Complete" })
      else {
        s = apply(s, { type: "Fail", error: "failed" })
        s = apply(s, { type: "Provision", verb: "manage" })
        if (s.maintenance) s = apply(s, { type: "SetMaintenance", on: false, reason: null })
      }
      assert.equal(s.provisionState, "manageable")
    })
  }), { numRuns: 50 })
})
