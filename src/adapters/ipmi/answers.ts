// What ipmitool's output means. Only answers seen from ipmitool 1.8.19 are recognised; anything else
// is an error that quotes the output, never a guess.
import * as Data from "effect/Data"
import {
  BmcAuthFailed, BmcCommandFailed, BmcTimeout, BmcUnsupported,
  type BootDevice, type ChassisPower, type PowerError,
} from "../../ports/power-driver.ts"
import type { IpmitoolOutput } from "./run.ts"

/** The BMC answered but was too busy to act: worth another try after a pause. Internal to the adapter. */
export class BmcBusy extends Data.TaggedError("BmcBusy")<{ readonly bmc: string; readonly command: string; readonly detail: string }> {}

export type Failure = PowerError | BmcBusy

// Lines `-v` adds to every session, successful or not (an OEM probe ipmi_sim does not know).
const NOISE = [
  /^Loading IANA PEN Registry/,
  /^Running Get VSO Capabilities/,
  /^Invalid completion code received: Invalid command$/,
  /^Discovered IPMB address/,
]

const lines = (text: string) => text.split("\n").map((l) => l.trim()).filter((l) => l !== "")
const meaningful = (out: IpmitoolOutput) => lines(`${out.stderr}\n${out.stdout}`).filter((l) => !NOISE.some((n) => n.test(l)))
const detailOf = (out: IpmitoolOutput) =>
  meaningful(out).join("; ").slice(0, 500) || `no output (exit code ${out.exitCode})`

// Completion codes and RMCP+ status codes a busy or restarting BMC answers with.
const BUSY = [
  /\bNode busy\b/,
  /failed: Timeout$/, // completion code 0xC3 ("Timeout while processing command")
  /insufficient resources for (session|role)/,
  /No slot available/,
  /Out of space/,
  /Command response could not be provided/,
  /BMC initialization in progress/,
  /Cannot execute duplicated request/,
]
// Said when a session request got no answer at all (ipmitool has already retried -R times).
const NO_ANSWER = [
  /^Get Auth Capabilities error$/,
  /No response from remote controller/,
  /no response from RAKP [13] message/,
  /Timeout in open session response message/,
]
// The BMC answered and refused the user, the password or the privilege level.
const AUTH = [
  /RAKP 2 HMAC is invalid/,
  /RAKP [24] message indicates an error/,
  /RAKP 4 message has invalid integrity check value/,
  /Requested privilege level exceeds limit/,
  /Insufficient privilege level/,
  /Error in open session response message : (invalid role|unauthorized role requested)/,
]
// The BMC answered, but the session cannot work for a reason that is not the credentials.
const SESSION_MISMATCH = [
  /Get Auth Capabilities error: /,
  /does not support IPMI v2/,
  /Error in open session response message/,
  /Unsupported cipher suite/,
]
const SESSION_FAILED = /Unable to establish IPMI v2 \/ RMCP\+ session/

/** Classifies an ipmitool run that did not give the expected answer. */
export const classifyFailure = (bmc: string, command: string, out: IpmitoolOutput): Failure => {
  const said = meaningful(out)
  const has = (patterns: ReadonlyArray<RegExp>) => said.some((l) => patterns.some((p) => p.test(l)))
  const detail = detailOf(out)
  if (has(BUSY)) return new BmcBusy({ bmc, command, detail })
  if (has(NO_ANSWER)) return new BmcTimeout({ bmc, afterMs: out.elapsedMs })
  if (has(AUTH)) return new BmcAuthFailed({ bmc, detail })
  if (has(SESSION_MISMATCH)) return new BmcCommandFailed({ bmc, command, detail })
  // Otherwise a session the BMC answered but would not open was refused on the credentials.
  if (has([SESSION_FAILED])) return new BmcAuthFailed({ bmc, detail })
  return new BmcCommandFailed({ bmc, command, detail })
}

const POWER_STATUS = /^Chassis Power is (on|off)$/m

export const parsePowerStatus = (bmc: string, command: string, out: IpmitoolOutput): ChassisPower | Failure => {
  const match = out.exitCode === 0 ? POWER_STATUS.exec(out.stdout) : null
  if (match === null) return classifyFailure(bmc, command, out)
  return match[1] === "on" ? "power on" : "power off"
}

const CONTROL_ECHO = { on: "Up/On", off: "Down/Off", soft: "Soft", diag: "Diag" } as const

/** A power control command: ipmitool echoes the action it had the BMC perform. */
export const parsePowerControl = (
  bmc: string, command: string, action: keyof typeof CONTROL_ECHO, out: IpmitoolOutput,
): null | Failure => {
  if (out.exitCode === 0 && out.stdout.split("\n").some((l) => l.trim() === `Chassis Power Control: ${CONTROL_ECHO[action]}`)) return null
  const failure = classifyFailure(bmc, command, out)
  // A BMC without ACPI soft-off support (or, in ipmi_sim, without a VM on its serial port) rejects the request.
  // Likewise a BMC that can not pulse a diagnostic interrupt (ipmi_sim: no VM with NMI support attached).
  if ((action === "soft" || action === "diag") && failure._tag === "BmcCommandFailed"
    && /Set Chassis Power Control to (Soft|Diag) failed: (Invalid data field in request|Invalid command|Command not supported in present state)/.test(out.stderr)) {
    return new BmcUnsupported({ bmc, command, detail: failure.detail })
  }
  return failure
}

const BOOT_PARAM_REJECTED = /^Set Chassis Boot Parameter \d+ failed: /

/**
 * `chassis bootdev` exits 0 even when the BMC rejected the parameters, so the output decides. A
 * rejection is an error like any other: a machine the BMC did not switch boots from its previous
 * device (its disk, where the deploy ramdisk was meant).
 */
export const parseBootDevice = (
  bmc: string, command: string, device: BootDevice, out: IpmitoolOutput,
): null | Failure => {
  if (out.exitCode === 0 && out.stdout.split("\n").some((l) => l.trim() === `Set Boot Device to ${device}`)) return null
  const failure = classifyFailure(bmc, command, out)
  const said = meaningful(out)
  // A busy BMC is retried as for any command; anything else it said against the parameter is a refusal.
  if (failure._tag === "BmcCommandFailed" && said.length > 0 && said.every((l) => BOOT_PARAM_REJECTED.test(l))) {
    return new BmcCommandFailed({ bmc, command, detail: `the BMC refused boot device ${device} (${said.join("; ")})` })
  }
  return failure
}
