// Which hardware steps are "instant": carried out by an interface that touches nothing outside this
// process (Ironic's fake interfaces). Recording such a step's request before the action buys
// nothing after a crash (there is nothing that may or may not have happened), so the conductor
// records the request and its result in one append (ADR 0125). Every real interface keeps the
// request-before-action rule of ADR 0010.
import type { HardwareRequestBody } from "../../domain/index.ts"
import type { NodeHardware } from "../hardware/interfaces.ts"

export const instantStep = (hw: NodeHardware, request: HardwareRequestBody): boolean => {
  switch (request.type) {
    case "PowerOnRequested":
    case "PowerOffRequested":
    case "SoftPowerOffRequested":
    case "RebootRequested":
      return hw.power.instant === true
    case "BootDeviceRequested":
      return hw.management.instant === true
    case "BootConfigRequested":
      return hw.boot.instant === true && hw.boot.media === undefined
    default:
      return false
  }
}

/** A verify that asks nothing of a BMC: an instant power interface and no settings to read. */
export const instantVerify = (hw: NodeHardware): boolean =>
  hw.power.instant === true && !("settings" in hw.bios && hw.bios.unsupported !== true) &&
  !("components" in hw.firmware && hw.firmware.unsupported !== true)

/**
 * A node whose power, management and boot interfaces are all instant: its conductor writes a whole
 * stretch of its operation in one append. On other nodes every planned step is its own append, as
 * before (a crash leaves the log at any step boundary, which the crash tests rely on).
 */
export const instantHardware = (hw: NodeHardware): boolean =>
  hw.power.instant === true && hw.management.instant === true && hw.boot.instant === true && hw.boot.media === undefined
