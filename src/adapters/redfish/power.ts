// Power and boot device over Redfish: ComputerSystem.Reset and the Boot override.
import * as Effect from "effect/Effect"
import type { ManagementInterface, PowerInterface } from "../../application/hardware/interfaces.ts"
import type { NodeState } from "../../domain/index.ts"
import type { RedfishClient } from "./client.ts"
import { checkInfo, properties, validate } from "./settings.ts"
import { actionTarget, systemOf } from "./system.ts"
import { redfishIndicators } from "./indicators.ts"

const description = "Redfish: ComputerSystem power state, Reset and the boot source override."

export const redfishPower = (client: RedfishClient): PowerInterface => {
  const resetTo = (n: NodeState, type: string) =>
    Effect.gen(function* () {
      const s = yield* systemOf(client, n)
      const allowed = ((s.system["Actions"] as Record<string, Record<string, unknown>> | undefined)?.["#ComputerSystem.Reset"]?.["ResetType@Redfish.AllowableValues"])
      if (Array.isArray(allowed) && !allowed.includes(type)) {
        return yield* Effect.fail({ message: `the BMC does not offer ResetType ${type} for ${s.path} (it offers ${allowed.join(", ")})` })
      }
      yield* client.send(s.bmc, "POST", yield* actionTarget(s.system, "#ComputerSystem.Reset", s.path), { ResetType: type })
    })
  return {
    slot: "power", name: "redfish", description, properties, checkInfo, validate,
    status: (n) => Effect.flatMap(systemOf(client, n), (s) => {
      const state = s.system["PowerState"]
      // PoweringOn/PoweringOff report where the machine is going, as Ironic reads them.
      if (state === "On" || state === "PoweringOn") return Effect.succeed("power on" as const)
      if (state === "Off" || state === "PoweringOff") return Effect.succeed("power off" as const)
      return Effect.fail({ message: `the BMC reports PowerState ${JSON.stringify(state)} for ${s.path}` })
    }),
    powerOn: (n) => resetTo(n, "On"),
    powerOff: (n) => resetTo(n, "ForceOff"),
    softPowerOff: (n) => resetTo(n, "GracefulShutdown"),
    reboot: (n) => Effect.flatMap(systemOf(client, n), (s) => resetTo(n, s.system["PowerState"] === "Off" ? "On" : "ForceRestart")),
  }
}

/** Boot mode from the node's capabilities ("boot_mode:uefi" / "boot_mode:bios"), as Ironic reads it; null: leave it. */
const bootModeOf = (n: NodeState): "UEFI" | "Legacy" | null => {
  const caps = (n.properties as Record<string, unknown>)["capabilities"]
  const m = typeof caps === "string" ? /(?:^|,)boot_mode:(uefi|bios)(?:,|$)/.exec(caps) : null
  return m === null ? null : m[1] === "uefi" ? "UEFI" : "Legacy"
}

export const redfishManagement = (client: RedfishClient): ManagementInterface => ({
  slot: "management", name: "redfish", description, properties, checkInfo, validate, indicators: redfishIndicators(client),
  setBootDevice: (n, device, persistent) =>
    Effect.gen(function* () {
      const s = yield* systemOf(client, n)
      const mode = bootModeOf(n)
      yield* client.send(s.bmc, "PATCH", s.path, {
        Boot: {
          BootSourceOverrideTarget: device === "pxe" ? "Pxe" : device === "cdrom" ? "Cd" : "Hdd",
          BootSourceOverrideEnabled: persistent ? "Continuous" : "Once",
          ...(mode === null ? {} : { BootSourceOverrideMode: mode }),
        },
      })
    }),
  // Ironic's redfish management: ComputerSystem.Reset with ResetType Nmi.
  injectNmi: (n) =>
    Effect.gen(function* () {
      const s = yield* systemOf(client, n)
      yield* client.send(s.bmc, "POST", yield* actionTarget(s.system, "#ComputerSystem.Reset", s.path), { ResetType: "Nmi" })
    }),
})
