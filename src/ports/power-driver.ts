// PowerDriver port: a node's BMC. The ipmitool adapter talks IPMI; the simulated one keeps state in memory.
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"

export interface BmcAccess {
  readonly address: string
  readonly port: number
  readonly username: string
  readonly password: Redacted.Redacted<string>
  /** Minimum pause between two commands to this BMC, in ms; BMCs choke on bursts. */
  readonly minCommandIntervalMs?: number
}

export type ChassisPower = "power on" | "power off"
export type BootDevice = "pxe" | "disk" | "cdrom"

export class BmcAuthFailed extends Data.TaggedError("BmcAuthFailed")<{ readonly bmc: string; readonly detail: string }> {
  override get message() { return `BMC ${this.bmc} refused the credentials: ${this.detail}` }
}
export class BmcTimeout extends Data.TaggedError("BmcTimeout")<{ readonly bmc: string; readonly afterMs: number }> {
  override get message() { return `BMC ${this.bmc} did not answer within ${this.afterMs} ms` }
}
export class BmcCommandFailed extends Data.TaggedError("BmcCommandFailed")<{
  readonly bmc: string
  readonly command: string
  readonly detail: string
}> {
  override get message() { return `BMC ${this.bmc}: "${this.command}" failed: ${this.detail}` }
}
export class BmcUnsupported extends Data.TaggedError("BmcUnsupported")<{
  readonly bmc: string
  readonly command: string
  readonly detail: string
}> {
  override get message() { return `BMC ${this.bmc} does not support "${this.command}": ${this.detail}` }
}
export type PowerError = BmcAuthFailed | BmcTimeout | BmcCommandFailed | BmcUnsupported

export class PowerDriver extends Context.Service<PowerDriver, {
  readonly status: (bmc: BmcAccess) => Effect.Effect<ChassisPower, PowerError>
  readonly powerOn: (bmc: BmcAccess) => Effect.Effect<void, PowerError>
  readonly powerOff: (bmc: BmcAccess) => Effect.Effect<void, PowerError>
  /** Graceful shutdown through ACPI; BmcUnsupported where the BMC cannot. */
  readonly softPowerOff: (bmc: BmcAccess) => Effect.Effect<void, PowerError>
  /** Power cycle; the node is on afterwards. */
  readonly reboot: (bmc: BmcAccess) => Effect.Effect<void, PowerError>
  /**
   * The device the machine boots from next (and after, when persistent). A BMC that refuses it
   * fails: a machine left on its previous device would boot its disk instead of the deploy ramdisk.
   */
  readonly setBootDevice: (
    bmc: BmcAccess,
    device: BootDevice,
    persistent: boolean,
  ) => Effect.Effect<void, PowerError>
  /** Pulses a diagnostic interrupt (NMI) into the running machine; BmcUnsupported where the BMC refuses. */
  readonly injectNmi: (bmc: BmcAccess) => Effect.Effect<void, PowerError>
}>()("ironledger/PowerDriver") {}
