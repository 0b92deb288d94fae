// A node driven purely (decide + evolve), as the property tests of the conductor's plans drive it:
// commands applied one at a time on a clock of their own, and what a hardware step that worked records.
import * as E from "fp-ts/lib/Either.js"
import {
  decide, evolve, hardwareSteps,
  type HardwareRequestBody, type HardwareResultBody, type NonNegativeInt, type NodeCommand, type NodeEvent, type NodeState, type Uuid,
} from "../../src/domain/index.ts"
import { metaAt } from "./fleet-log.ts"

export interface PureNode {
  /** Applies one command; a refused one changes nothing and records nothing. */
  readonly apply: (s: NodeState, c: NodeCommand) => { readonly state: NodeState; readonly events: ReadonlyArray<NodeEvent> }
  /** The clock the applied events were stamped with (one tick per event). */
  readonly now: () => number
}

export const pureNode = (nodeId: Uuid): PureNode => {
  let clock = 0
  return {
    apply: (s, c) => {
      const d = decide(s.revision < 0 ? null : s, c, nodeId)
      if (E.isLeft(d)) return { state: s, events: [] }
      let state = s
      for (const e of d.right) state = evolve(state, e, metaAt(++clock))
      return { state, events: d.right }
    },
    now: () => clock,
  }
}

/** What a hardware step that worked records. */
export const stepSucceeded = (req: HardwareRequestBody): HardwareResultBody => {
  const base = { step: req.data.step, durationMs: 1 }
  switch (req.type) {
    case "PowerOnRequested": case "RebootRequested": return { type: "PowerStateChanged", data: { ...base, powerState: "power on" } }
    case "PowerOffRequested": case "SoftPowerOffRequested": return { type: "PowerStateChanged", data: { ...base, powerState: "power off" } }
    case "BootDeviceRequested": return { type: "BootDeviceSet", data: { ...base, warning: null } }
    case "CleanStepRequested": return { type: "CleanStepDone", data: { ...base, summary: "ok" } }
    case "ImageWriteRequested": return { type: "ImageWritten", data: { ...base, deployId: req.data.deployId, bytesWritten: 1 as NonNegativeInt, rootUuid: null, diskId: null } }
    default: return { type: hardwareSteps[req.type].done, data: base } as HardwareResultBody
  }
}
