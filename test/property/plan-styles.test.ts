// The conductor's plan, driven to its end purely (decide + every hardware step succeeding,
// every awaited ramdisk calling back) after random user requests: whatever the deploy interface's
// style and the automated_clean setting, every operation ends in a stable state; an "instant"
// deploy interface (fake-hardware) never boots, writes, wipes or waits for a ramdisk; with
// automated cleaning off, provide and tear-down boot no cleaning ramdisk.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { plan, type PlanContext } from "../../src/application/conductor/plan.ts"
import {
  initialState, isInBand,
  type IscsiTarget, type NodeCommand, type NodeEvent, type NodeState, type Uuid,
} from "../../src/domain/index.ts"
import { pureNode, stepSucceeded } from "../support/pure-node.ts"

const nodeId = "00000000-0000-4000-8000-00000000abcd" as Uuid
const deployId = "00000000-0000-4000-8000-00000000d001" as Uuid
const target = { address: "127.0.0.1", port: 3260, iqn: "iqn.2026-11.test:n", lun: 1 } as unknown as IscsiTarget

type Verb = "manage" | "provide" | "deploy" | "undeploy" | "clean"
const verbs: ReadonlyArray<Verb> = ["manage", "provide", "deploy", "undeploy", "clean"]

const { apply, now } = pureNode(nodeId)

const userCommand = (verb: Verb): NodeCommand => verb === "deploy"
  ? {
    type: "Deploy", rebuild: false,
    spec: { deployId, keyHash: "k", sealedKey: { $sealed: "s" }, imageSource: "", imageKind: "whole-disk", rootGb: 0 as never, swapMb: 0 as never, ephemeralGb: 0 as never, preserveEphemeral: false },
  }
  : { type: "Provision", verb: verb === "undeploy" ? "undeploy" : verb }

/** Runs the conductor's plan until it says idle; the events it caused, or a failure to settle. */
const metadataStep = [{ name: "deploy.erase_devices_metadata", args: {}, where: "in-band" as const, rebootAfter: false }]

const drive = (start: NodeState, ctx: Omit<PlanContext, "now" | "callbackTimeoutMs" | "mayStartDeploy" | "cleanSteps">) => {
  let s = start
  const events: NodeEvent[] = []
  const record = (c: NodeCommand) => { const r = apply(s, c); s = r.state; events.push(...r.events); return r.events.length }
  for (let i = 0; i < 100; i++) {
    const p = plan(s, { ...ctx, now: now(), callbackTimeoutMs: 1e12, mayStartDeploy: () => true, cleanSteps: metadataStep })
    switch (p.kind) {
      case "idle": return { state: s, events }
      case "request": record({ type: "RequestHardware", request: p.request }); break
      case "perform": record({ type: "RecordHardware", result: stepSucceeded(p.request) }); break
      case "verify": record({ type: "ObservePower", powerState: "power off" }); record({ type: "Complete" }); break
      case "issueRamdiskKey": record({ type: "IssueRamdiskKey", keyHash: "c", sealedKey: { $sealed: "c" } }); break
      case "command":
        if (record(p.command) === 0) assert.fail(`the plan's ${p.command.type} was refused in ${s.provisionState}`)
    }
    // A ramdisk that was waited for and powered on calls back.
    if (s.provisionState === "wait call-back" && s.pendingSteps.length === 0 && s.powerState === "power on" && s.deploy?.iscsi === null) {
      record({ type: "AcceptIscsi", deployId, target })
    }
    // The cleaning ramdisk runs the in-band step it is given.
    const inBand = s.pendingSteps.find(isInBand)
    if (inBand !== undefined) record({ type: "RecordHardware", result: stepSucceeded(inBand.request) })
    if (s.provisionState === "clean wait" && s.pendingSteps.length === 0 && s.powerState === "power on" && s.cleaningRamdisk?.target === null) {
      record({ type: "AcceptCleaningIscsi", target })
    }
  }
  return assert.fail(`no end after 100 plans: ${s.provisionState} -> ${s.targetProvisionState}`)
}

const ramdiskEvents = new Set(["ImageWriteRequested", "DiskWipeRequested", "CleanStepRequested", "RamdiskReleaseRequested", "CallbackAwaited", "RamdiskKeyIssued"])

test("every operation the plan drives ends stable; instant deploys touch no ramdisk; automated cleaning off boots none", () => {
  fc.assert(fc.property(
    fc.constantFrom("ramdisk" as const, "instant" as const), fc.boolean(), fc.array(fc.constantFrom(...verbs), { maxLength: 12 }),
    (deployStyle, automatedClean, asked) => {
      let s = apply(initialState(nodeId), {
        type: "Enroll", nodeId, name: null, driver: "any", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {},
      }).state
      for (const verb of asked) {
        const before = s.provisionState
        const r = apply(s, userCommand(verb))
        if (r.events.length === 0) continue
        const driven = drive(r.state, { deployStyle, automatedClean })
        s = driven.state
        assert.equal(s.targetProvisionState, null, `${verb} from ${before} did not settle: ${s.provisionState}`)
        assert.deepEqual(s.pendingSteps, [])
        const booted = driven.events.filter((e) => ramdiskEvents.has(e.type) || (e.type === "BootConfigRequested" && e.data.label === "deploy"))
        const automatedCleaning = verb === "provide" || verb === "undeploy"
        if (deployStyle === "instant") assert.deepEqual(booted.map((e) => e.type), [], `${verb} on an instant deploy interface booted a ramdisk`)
        else if (!automatedClean && automatedCleaning) assert.deepEqual(booted.map((e) => e.type), [], `${verb} cleaned with automated cleaning off`)
        else if (verb === "deploy" || (automatedClean && automatedCleaning) || verb === "clean") {
          assert.ok(booted.length > 0 || s.provisionState.endsWith("failed"), `${verb} from ${before} should boot the ramdisk`)
        }
      }
    },
  ), { numRuns: 300 })
})
