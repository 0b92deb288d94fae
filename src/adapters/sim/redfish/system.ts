// One emulated ComputerSystem: what its BMC keeps (boot override, BIOS current and pending,
// firmware current and staged, virtual media) and what a (re)boot of its machine does to that:
// pending BIOS settings and staged firmware take effect, a Once override is used up.
import type { EmulatedMachine } from "./machine.ts"

export const bootTargets = ["None", "Pxe", "Hdd", "Cd"] as const
export type BootTarget = (typeof bootTargets)[number]
export const bootEnabled = ["Disabled", "Once", "Continuous"] as const
export type BootEnabled = (typeof bootEnabled)[number]
export const bootModes = ["UEFI", "Legacy"] as const
export type BootMode = (typeof bootModes)[number]
export const resetTypes = ["On", "ForceOff", "ForceRestart", "GracefulShutdown", "GracefulRestart", "Nmi"] as const
export type ResetType = (typeof resetTypes)[number]

export type BiosValue = string | number | boolean

/** Attributes a factory-fresh machine has; ResetBios schedules these. */
export const defaultBios: Readonly<Record<string, BiosValue>> = {
  BootMode: "Uefi", ProcTurboMode: "Enabled", LogicalProc: "Enabled", ProcVirtualization: "Enabled",
  SriovGlobalEnable: "Disabled", EmbeddedSata: "AhciMode", NumLock: "On", PxeDev1EnDis: "Enabled",
}

/** The emulated BIOS's attribute registry: each attribute's allowed values (all Enumerations, reset required). */
export const biosAllowable: Readonly<Record<string, ReadonlyArray<string>>> = {
  BootMode: ["Uefi", "Bios"], ProcTurboMode: ["Enabled", "Disabled"], LogicalProc: ["Enabled", "Disabled"],
  ProcVirtualization: ["Enabled", "Disabled"], SriovGlobalEnable: ["Enabled", "Disabled"], EmbeddedSata: ["AhciMode", "RaidMode", "Off"],
  NumLock: ["On", "Off"], PxeDev1EnDis: ["Enabled", "Disabled"],
}

export interface FirmwareComponent { readonly id: string; readonly name: string; version: string; staged: string | null }

export interface SystemState {
  readonly machine: EmulatedMachine
  boot: { enabled: BootEnabled; target: BootTarget; mode: BootMode }
  bios: Record<string, BiosValue>
  biosPending: Record<string, BiosValue>
  readonly firmware: Map<string, FirmwareComponent>
  /** `file`: where the emulator keeps the fetched image (the machine's CD), when it fetches. */
  media: { image: string | null; inserted: boolean; file?: string }
  /** Boots this BMC has seen (power on from off, restarts). */
  boots: number
  /** The front panel identify LED (Redfish IndicatorLED). */
  indicatorLed: IndicatorLed
}

export const indicatorLeds = ["Lit", "Blinking", "Off"] as const
export type IndicatorLed = (typeof indicatorLeds)[number]

export const newSystem = (machine: EmulatedMachine): SystemState => ({
  machine,
  boot: { enabled: "Disabled", target: "None", mode: "UEFI" },
  bios: { ...defaultBios },
  biosPending: {},
  firmware: new Map([
    ["BMC", { id: "BMC", name: "BMC firmware", version: "1.0.0", staged: null }],
    ["BIOS", { id: "BIOS", name: "System BIOS", version: "1.0.0", staged: null }],
  ]),
  media: { image: null, inserted: false },
  boots: 0,
  indicatorLed: "Off",
})

/** Why these attribute values cannot be set, or null: unknown names and wrong types are refused. */
export const checkBiosChanges = (s: SystemState, changes: Readonly<Record<string, unknown>>): string | null => {
  for (const [name, value] of Object.entries(changes)) {
    const now = s.bios[name]
    if (now === undefined) return `Attribute ${name} is not a BIOS attribute of this system.`
    if (typeof value !== typeof now) return `Attribute ${name} takes a ${typeof now}, got ${JSON.stringify(value)}.`
  }
  return null
}

/**
 * What the machine starting again does to what the BMC holds. A Once override is used up: a
 * machine that decides its boot itself is told to boot its disk from the next start on.
 */
const booted = async (s: SystemState) => {
  s.boots++
  s.bios = { ...s.bios, ...s.biosPending }
  s.biosPending = {}
  for (const c of s.firmware.values()) if (c.staged !== null) { c.version = c.staged; c.staged = null }
  if (s.boot.enabled === "Once") {
    s.boot = { ...s.boot, enabled: "Disabled", target: "None" }
    await s.machine.bootFrom?.("disk", true)
  }
}

/** The device the machine is to boot next, for a machine that decides that itself. */
const tellBootDevice = async (s: SystemState) => {
  if (s.machine.bootFrom === undefined || s.boot.enabled === "Disabled") return
  if (s.boot.target === "Pxe") await s.machine.bootFrom("pxe", s.boot.enabled === "Continuous")
  if (s.boot.target === "Hdd") await s.machine.bootFrom("disk", s.boot.enabled === "Continuous")
  if (s.boot.target === "Cd") await s.machine.bootFrom("cdrom", s.boot.enabled === "Continuous")
}

export const setBootOverride = async (s: SystemState, boot: SystemState["boot"]) => {
  s.boot = boot
  await tellBootDevice(s)
}

export const reset = async (s: SystemState, type: ResetType) => {
  const on = (await s.machine.power()) === "On"
  switch (type) {
    case "On":
      if (on) return
      await s.machine.act("on")
      await booted(s)
      return
    case "ForceOff": await s.machine.act("off"); return
    // A diagnostic interrupt for the running machine (the server refuses it while off).
    case "Nmi": await s.machine.nmi?.(); return
    case "GracefulShutdown": await s.machine.act("soft-off"); return
    case "ForceRestart":
    case "GracefulRestart":
      // A restart of a machine that is off starts it, as BMCs do.
      await s.machine.act(on ? "reset" : "on")
      await booted(s)
      return
  }
}
