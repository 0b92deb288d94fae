// What the Redfish BMC emulator drives: one machine's power. The emulator keeps what a BMC keeps
// itself (boot override, BIOS settings, firmware, virtual media); the machine behind it is an
// in-memory one (tests), or one another BMC front end already powers (ipmi_sim's machine, through
// the PowerDriver port), so both front ends act on one machine with one power state.
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { BmcAccess, BootDevice, PowerDriver } from "../../../ports/index.ts"

export type MachinePower = "On" | "Off"
export type MachineAction = "on" | "off" | "soft-off" | "reset"

export interface EmulatedMachine {
  /** The ComputerSystem's Id (a path segment). */
  readonly id: string
  readonly uuid: string
  readonly name: string
  readonly power: () => Promise<MachinePower>
  readonly act: (action: MachineAction) => Promise<void>
  /** Told the boot override, where the machine decides its next boot from it (PXE, disk or CD). */
  readonly bootFrom?: (device: BootDevice, persistent: boolean) => Promise<void>
  /** Told the virtual CD's medium (a local ISO file) or null when ejected: its CD-ROM from its next start on. */
  readonly media?: (iso: string | null) => Promise<void>
  /** A diagnostic interrupt (ResetType Nmi) for the running machine. */
  readonly nmi?: () => Promise<void>
}

/** A machine that is only its power state: enough for clients that read and reset. */
export const memoryMachine = (id: string, uuid: string, name = id): EmulatedMachine & { readonly boots: () => number; readonly nmis: () => number } => {
  let on = false
  let boots = 0
  let nmis = 0
  return {
    id, uuid, name,
    power: async () => (on ? "On" : "Off"),
    act: async (action) => {
      if (action === "on" && !on) boots++
      if (action === "reset") boots++
      on = action === "on" || action === "reset"
    },
    boots: () => boots,
    nmi: async () => { nmis++ },
    nmis: () => nmis,
  }
}

/** A machine another BMC already powers, driven through that BMC (one machine, one power state). */
export const machineBehind = (
  driver: PowerDriver["Service"], bmc: BmcAccess, id: string, uuid: string, name = id,
): EmulatedMachine => {
  const run = <A>(work: Effect.Effect<A, { readonly message: string }>) =>
    Effect.runPromise(Effect.mapError(work, (e) => new Error(e.message)))
  return {
    id, uuid, name,
    power: async () => ((await run(driver.status(bmc))) === "power on" ? "On" : "Off"),
    act: (action) => run(
      action === "on" ? driver.powerOn(bmc)
        : action === "off" ? driver.powerOff(bmc)
        : action === "soft-off" ? driver.softPowerOff(bmc)
        : driver.reboot(bmc),
    ),
    bootFrom: async (device, persistent) => { await run(driver.setBootDevice(bmc, device, persistent)) },
    nmi: () => run(driver.injectNmi(bmc)),
  }
}

export const bmcAccess = (address: string, port: number, username: string, password: string): BmcAccess =>
  ({ address, port, username, password: Redacted.make(password) })
