// What a node's BMC reports about its BIOS and firmware, read where the node's interfaces can
// (redfish; not no-bios), as commands that record it in the node's log. Run after verify, and by
// the cleaning-step runner after a BIOS or firmware step. A read that fails is a warning, as in
// Ironic: the node's operation goes on without a fresh copy.
import * as Effect from "effect/Effect"
import type { ConductorCommand, NodeState } from "../../domain/index.ts"
import type { Secrets } from "../../ports/index.ts"
import type { BiosInterface, FirmwareInterface, NodeHardware } from "./interfaces.ts"

export interface SettingsRead {
  readonly commands: ReadonlyArray<ConductorCommand>
  readonly warnings: ReadonlyArray<string>
}

const hasSettings = (i: NodeHardware["bios"]): i is BiosInterface => "settings" in i && i.unsupported !== true
const hasComponents = (i: NodeHardware["firmware"]): i is FirmwareInterface => "components" in i && i.unsupported !== true

export const readHardwareSettings = (hw: Pick<NodeHardware, "bios" | "firmware">, node: NodeState): Effect.Effect<SettingsRead, never, Secrets> =>
  Effect.gen(function* () {
    const commands: ConductorCommand[] = []
    const warnings: string[] = []
    if (hasSettings(hw.bios)) {
      const r = yield* Effect.result(hw.bios.settings(node))
      if (r._tag === "Success") commands.push({ type: "CacheBiosSettings", settings: [...r.success] })
      else warnings.push(`BIOS settings of node ${node.nodeId} not read: ${r.failure.message}`)
    }
    if (hasComponents(hw.firmware)) {
      const r = yield* Effect.result(hw.firmware.components(node))
      if (r._tag === "Success") commands.push({ type: "CacheFirmwareComponents", components: [...r.success] })
      else warnings.push(`firmware versions of node ${node.nodeId} not read: ${r.failure.message}`)
    }
    return { commands, warnings }
  })
