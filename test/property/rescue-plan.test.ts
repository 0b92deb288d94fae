// Rescue's transitions driven purely (decide + evolve + the conductor's plan, ADR 0095): from
// active, random sequences of rescues whose ramdisk reports, stays silent (rescue wait times out
// into rescue failed), reports an error, or is aborted, each followed by an unrescue or another
// rescue. With the "agent" rescue interface a rescue ends in rescue only after the ramdisk's
// report, with the rescue PXE label written, a key of its own and the password's hash (never the
// password) on the operation; unrescue always puts the boot label back and reaches active.
// "instant" (fake) rescue boots no ramdisk and waits for nothing.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import * as E from "fp-ts/lib/Either.js"
import { plan } from "../../src/application/conductor/plan.ts"
import {
  decide, initialState, stepOutcome,
  type Iqn, type Mac, type NonNegativeInt, type PortNumber, type NodeCommand, type NodeEvent, type NodeState, type Uuid,
} from "../../src/domain/index.ts"
import { pureNode, stepSucceeded } from "../support/pure-node.ts"

const nodeId = "00000000-0000-4000-8000-00000000beef" as Uuid
const deployId = "00000000-0000-4000-8000-00000000d001" as Uuid
const { apply } = pureNode(nodeId)

type Ramdisk = "reports" | "silent" | "error" | "aborted"
type Style = "agent" | "instant"

/** Drives the node with the plan until it is idle; the ramdisk acts once the node waits for it powered on. */
const drive = (start: NodeState, style: Style, ramdisk: Ramdisk) => {
  let s = start
  const events: NodeEvent[] = []
  const record = (c: NodeCommand) => { const r = apply(s, c); s = r.state; events.push(...r.events); return r.events.length }
  for (let i = 0; i < 60; i++) {
    // The rescue ramdisk runs once the machine has rebooted into it (the instant style reboots nothing).
    const rebooted = style === "instant" || stepOutcome(s.operation, `${s.operation?.id}:rescue:reboot`) === "ok"
    const waiting = s.provisionState === "rescue wait" && s.pendingSteps.length === 0 && s.powerState === "power on" && rebooted
    if (waiting && ramdisk === "reports") {
      assert.ok(s.operation?.rescuePasswordHash?.startsWith("$6$"), "the ramdisk finds the hash to fetch")
      assert.ok(record({ type: "AcceptRescueReady", address: "10.0.0.9" }) > 0)
      // Taken once: the rescue no longer waits.
      assert.ok(E.isLeft(decide(s, { type: "AcceptRescueReady" }, nodeId)))
    }
    if (waiting && ramdisk === "error") assert.ok(record({ type: "Fail", error: "The rescue ramdisk reported: no tty" }) > 0)
    if (waiting && ramdisk === "aborted") assert.ok(record({ type: "Provision", verb: "abort" }) > 0)
    const now = waiting && ramdisk === "silent" ? 1e13 : 0
    const p = plan(s, {
      now, callbackTimeoutMs: 1000, mayStartDeploy: () => true, deployStyle: "ramdisk", automatedClean: false, cleanSteps: [],
      rescueStyle: style,
    })
    switch (p.kind) {
      case "idle": return { state: s, events }
      case "request": record({ type: "RequestHardware", request: p.request }); break
      case "perform": record({ type: "RecordHardware", result: stepSucceeded(p.request) }); break
      case "verify": assert.fail("no verify here")
      case "issueRamdiskKey": record({ type: "IssueRamdiskKey", keyHash: "k", sealedKey: { $sealed: "k" } }); break
      case "command": if (record(p.command) === 0) assert.fail(`the plan's ${p.command.type} was refused in ${s.provisionState}`)
    }
  }
  return assert.fail(`no end: ${s.provisionState}`)
}

const activeNode = (): NodeState => {
  let s = apply(initialState(nodeId), { type: "Enroll", nodeId, name: null, driver: "any", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {} }).state
  s = apply(s, { type: "AddPort", portId: "00000000-0000-4000-8000-0000000000a1" as Uuid, mac: "52:54:00:00:00:a1" as Mac }).state
  for (const verb of ["manage", "provide"] as const) { s = apply(s, { type: "Provision", verb }).state; s = apply(s, { type: "Complete" }).state }
  s = apply(s, { type: "Deploy", rebuild: false, spec: {
    deployId, keyHash: "d", sealedKey: { $sealed: "d" }, imageSource: "", imageKind: "whole-disk", rootGb: 0 as NonNegativeInt, swapMb: 0 as NonNegativeInt, ephemeralGb: 0 as NonNegativeInt, preserveEphemeral: false,
  } }).state
  s = apply(s, { type: "AwaitCallback", deadline: new Date(1e12).toISOString() }).state
  s = apply(s, { type: "AcceptIscsi", deployId, target: { address: "10.0.0.9", port: 3260 as PortNumber, iqn: "iqn.2008-10.org.openstack:x" as Iqn, lun: 1 as NonNegativeInt } }).state
  s = drive(s, "agent", "reports").state
  assert.equal(s.provisionState, "active")
  return s
}

const hash = "$6$abcdefgh$KQeXafAQAaOoKTevphVU215RvJdgzyfASRasIOuh12hO8u0r1bGW92ZnTmC9IjsiQ8VPiTXBiZF49dFL1U4wX/"

test("rescues end in rescue only after the ramdisk's report, or in rescue failed; unrescue always returns to active", () => {
  const active = activeNode()
  fc.assert(fc.property(
    fc.constantFrom<Style>("agent", "instant"),
    fc.array(fc.tuple(fc.constantFrom<Ramdisk>("reports", "silent", "error", "aborted"), fc.boolean()), { minLength: 1, maxLength: 4 }),
    (style, rounds) => {
      let s = active
      for (const [ramdisk, unrescueAfter] of rounds) {
        const asked = apply(s, { type: "Provision", verb: "rescue", rescuePasswordHash: hash })
        assert.ok(asked.events.length > 0, `rescue refused in ${s.provisionState}`)
        assert.deepEqual(asked.events.at(-1), { type: "RescueRequested", data: { passwordHash: hash } })
        const { state, events } = drive(asked.state, style, ramdisk)
        s = state
        assert.equal(s.targetProvisionState, null)
        assert.deepEqual(s.pendingSteps, [])
        const types = events.map((e) => e.type)
        const labels = events.flatMap((e) => (e.type === "BootConfigRequested" ? [e.data.label] : []))
        assert.deepEqual(labels, ["rescue"], "the rescue label, once")
        if (style === "instant") {
          assert.equal(s.provisionState, "rescue")
          assert.ok(!types.includes("RamdiskKeyIssued") && !types.includes("CallbackAwaited"), "fake rescue waits for nothing")
        } else if (ramdisk === "reports") {
          assert.equal(s.provisionState, "rescue")
          assert.deepEqual(types.filter((t) => ["RamdiskKeyIssued", "CallbackAwaited", "RebootRequested", "RescueRamdiskReady", "Rescued"].includes(t)),
            ["RamdiskKeyIssued", "CallbackAwaited", "RebootRequested", "RescueRamdiskReady", "Rescued"])
          assert.ok(types.indexOf("RescueRamdiskReady") > types.indexOf("RebootRequested"))
        } else {
          assert.equal(s.provisionState, "rescue failed")
          assert.ok(!types.includes("Rescued"))
          if (ramdisk === "silent") assert.ok(types.includes("WaitTimedOut"))
          if (ramdisk !== "aborted") assert.ok(s.lastError !== null)
        }
        if (unrescueAfter) {
          const back = apply(s, { type: "Provision", verb: "unrescue" })
          assert.ok(back.events.length > 0, `unrescue refused in ${s.provisionState}`)
          const r = drive(back.state, style, ramdisk)
          s = r.state
          assert.equal(s.provisionState, "active")
          assert.deepEqual(r.events.flatMap((e) => (e.type === "BootConfigRequested" ? [e.data.label] : [])), ["boot"])
          assert.deepEqual(r.events.map((e) => e.type).filter((t) => t === "RebootRequested" || t === "Unrescued"), ["RebootRequested", "Unrescued"])
        }
      }
    },
  ), { numRuns: 300 })
})
