// Steering: commands that take a node along a chosen edge of the table. Random commands alone
// rarely get past the first few states; mixed with steers, sequences reach every state.
import fc from "fast-check"
import {
  transitions,
  type ConductorCommand, type DeploySpec, type HardwareRequestBody, type HardwareResultBody, type Iqn, type NodeCommand,
  type NodeState, type NonNegativeInt, type PortNumber, type ProvisionState, type Uuid,
} from "../../src/domain/index.ts"
import { SEALED_MARK, deploySpecArb, hardwareRoundTripArb, holders, instants, pick, rec, type Pools } from "./arbitraries.ts"

/** What steering needs to know of a node: a NodeState or a test's model both provide it. */
export interface SteerView {
  readonly revision: number
  readonly deleted: boolean
  readonly state: ProvisionState
  readonly maintenance: boolean
  readonly deploy: { readonly deployId: Uuid; readonly imageWritten: boolean } | null
  readonly waitDeadline: string | null
}

export const steerViewOf = (s: NodeState): SteerView => ({ ...s, state: s.provisionState })

/** A random choice of where to go next, and what to use on the way. */
export interface Steer {
  readonly choice: number
  readonly spec: DeploySpec
  /** The deadline of a wait it starts. */
  readonly when: string
  /** Whether to go as a conductor would, under a lease, and as whom. */
  readonly holder: string | null
  /** Instead of a move: one hardware action, asked for and then answered. */
  readonly hardware: { readonly request: HardwareRequestBody; readonly result: HardwareResultBody } | null
  /** The NIC an inspection reports: the node's own, so two inspected nodes never share a port. */
  readonly nic: Pools["inspectedNic"]
}

export const steerArb = (p: Pools): fc.Arbitrary<Steer> =>
  rec({
    choice: fc.nat(11), spec: deploySpecArb(p), when: pick(instants),
    holder: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: pick(holders) }),
    hardware: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: hardwareRoundTripArb(p) }),
    nic: fc.constant(p.inspectedNic),
  })

/**
 * Commands that should take the node along the `choice`-th edge out of its current state, built
 * from what is known of it (the running deploy id, a free step key). They go through decide like
 * any other command: steering only picks them.
 */
export const steerCommands = (m: SteerView, { choice, spec, when, holder, hardware, nic }: Steer): Array<NodeCommand> => {
  const commands: Array<NodeCommand> = hardware === null
    ? userOrConductorCommandsAlong(m, choice, spec, when, nic)
    : [{ type: "RequestHardware", request: hardware.request }, { type: "RecordHardware", result: hardware.result }]
  if (holder === null) return commands
  // As a conductor would: take the lease, then record its steps under it.
  const now = "2030-01-01T00:00:00.000Z"
  return [
    { type: "AcquireLease", holder, now, expiresAt: "2030-01-01T01:00:00.000Z" },
    ...commands.map((c): NodeCommand => (conductorCommands.has(c.type) ? { type: "AsConductor", holder, now, command: c as ConductorCommand } : c)),
  ]
}

const conductorCommands = new Set(["AwaitCallback", "TimeOutWait", "Complete", "Fail", "RequestHardware", "RecordHardware", "ObservePower", "IssueRamdiskKey", "CacheBiosSettings", "CacheFirmwareComponents"])

const userOrConductorCommandsAlong = (m: SteerView, choice: number, spec: DeploySpec, when: string, nic: Steer["nic"]): Array<NodeCommand> => {
  if (m.revision < 0 || m.deleted) return []
  const out = transitions.filter((t) => t.from === m.state)
  const chosen = out[choice % out.length]
  if (chosen === undefined) return []
  const lift: Array<NodeCommand> = m.maintenance ? [{ type: "SetMaintenance", on: false, reason: null }] : []
  const deployId = m.deploy?.deployId ?? spec.deployId
  switch (chosen.verb) {
    case "deploy": case "rebuild":
      return [...lift, { type: "Deploy", spec: { ...spec, preserveEphemeral: spec.preserveEphemeral && m.deploy !== null }, rebuild: chosen.verb === "rebuild" }]
    case "wait":
      // A cleaning boots a ramdisk with its own key before it waits for it.
      return m.state === "cleaning" || ((m.state === "inspecting" || m.state === "rescuing") && choice % 2 === 0)
        ? [{ type: "IssueRamdiskKey", keyHash: "cafe", sealedKey: { $sealed: `${SEALED_MARK}steered` } }, { type: "AwaitCallback", deadline: when }]
        : [{ type: "AwaitCallback", deadline: when }]
    case "resume":
      if (m.state === "inspect wait" && choice % 3 !== 0) {
        // The inspection ramdisk's inventory, with one NIC the node may not have a port for yet.
        // Every other one with what inspection rules made of it (ADR 0142).
        const rules = choice % 3 === 2
          ? { rules: { rules: [{ uuid: "r-1", description: null, did: ["trait CUSTOM_RULED added"] }], traits: ["CUSTOM_RULED"], setProperties: { vendor: "v" }, pluginData: { rack: "r1" } } }
          : {}
        return [{ type: "AcceptInventory", inventory: { cpu: { count: 2 } }, newPorts: [nic], ...rules }]
      }
      // The rescue ramdisk's login is up (ADR 0095); refused (and another resume taken) without its key.
      if (m.state === "rescue wait" && choice % 3 !== 0) return [{ type: "AcceptRescueReady", address: "10.0.0.9" }]
      return m.state === "wait call-back"
        ? [{ type: "AcceptIscsi", deployId, target: { address: "127.0.0.1", port: 3260 as PortNumber, iqn: "iqn.2008-10.org.openstack:deploy" as Iqn, lun: 1 as NonNegativeInt } }]
        : m.state === "clean wait" && choice % 3 === 1
          // The cleaning ramdisk runs an in-band step and reports it: its outcome resumes the cleaning.
          ? [
            { type: "RequestHardware", request: { type: "CleanStepRequested", data: { step: `clean-step-${m.revision}`, name: "deploy.erase_devices", args: {}, where: "in-band" } } },
            { type: "RecordHardware", result: { type: "CleanStepDone", data: { step: `clean-step-${m.revision}`, durationMs: 10, summary: "erased" } } },
          ]
        : m.state === "clean wait" && choice % 2 === 0
          ? [{ type: "AcceptCleaningIscsi", target: { address: "127.0.0.1", port: 3260 as PortNumber, iqn: "iqn.2008-10.org.openstack:clean" as Iqn, lun: 1 as NonNegativeInt } }]
          : [{ type: "AcceptCallback", data: {} }]
    case "fail":
      return m.waitDeadline !== null && choice % 2 === 0 ? [{ type: "TimeOutWait", now: m.waitDeadline }] : [{ type: "Fail", error: "step failed" }]
    case "done": {
      if (m.state !== "deploying" || m.deploy?.imageWritten) return [{ type: "Complete" }]
      const step = `image-${m.revision}`
      return [
        { type: "RequestHardware", request: { type: "ImageWriteRequested", data: { step, deployId } } },
        { type: "RecordHardware", result: { type: "ImageWritten", data: { step, durationMs: 10, deployId, bytesWritten: 1 as NonNegativeInt, rootUuid: null, diskId: null } } },
        { type: "Complete" },
      ]
    }
    case "clean":
      // Out of deleting, "clean" is the tear-down finishing; a user may also ask for it.
      return m.state === "deleting" && choice % 2 === 0 ? [{ type: "Complete" }] : [...lift, { type: "Provision", verb: "clean" }]
    default: {
      const verb = chosen.verb === "delete" ? "undeploy" : chosen.verb
      return [...lift, { type: "Provision", verb }]
    }
  }
}
