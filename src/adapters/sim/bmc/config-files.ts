// The files one simulated BMC runs from: ipmi_sim's lan.conf and bmc.emu (the configuration
// verified in shared/notes/real-components.md) and the script ipmi_sim runs as "the machine".

export interface BmcFilesSpec {
  readonly name: string
  readonly address: string
  readonly port: number
  /** TCP port of the VM serial interface; without that line ipmi_sim rejects power control. */
  readonly serialPort: number
  readonly username: string
  readonly password: string
  readonly machineScript: string
  /** Seconds ipmi_sim waits for a graceful stop before SIGTERM; skipped when no VM is attached. */
  readonly poweroffWaitSec: number
  /** Seconds between SIGTERM and SIGKILL of the machine. */
  readonly killWaitSec: number
}

// lan.conf quotes strings with "..." and has no escapes: keep names and secrets to plain characters.
const PLAIN = /^[A-Za-z0-9._@+=,:-]+$/

/** A reason the spec cannot be written as an ipmi_sim configuration, or null. */
export const invalidBmcFiles = (spec: BmcFilesSpec): string | null => {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(spec.name)) return `BMC name ${JSON.stringify(spec.name)}: 1-32 letters, digits, - or _`
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(spec.address)) return `BMC address ${spec.address}: simulated BMCs listen on loopback only`
  for (const [what, port] of [["port", spec.port], ["serial port", spec.serialPort]] as const) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return `BMC ${what} ${port} is not a port number`
  }
  if (!PLAIN.test(spec.username) || spec.username.length > 16) return "BMC user name: 1-16 plain characters"
  // IPMI v2 allows 20-byte passwords.
  if (!PLAIN.test(spec.password) || spec.password.length > 20) return "BMC password: 1-20 plain characters"
  if (!/^\/[^"'\s]+$/.test(spec.machineScript)) return `machine script path ${spec.machineScript}: absolute, no spaces or quotes`
  for (const [what, value] of [["poweroff_wait", spec.poweroffWaitSec], ["kill_wait", spec.killWaitSec]] as const) {
    if (!Number.isInteger(value) || value < 0) return `${what} must be a whole number of seconds`
  }
  return null
}

/**
 * The one lan.conf writer, for the simulated rack's BMCs and the VMs' alike: the LAN port, the VM
 * interface (`serial ... codec VM`), and what owns the chassis: a machine ipmi_sim starts itself
 * (`startcmd`), or a chassis control program (power and a boot device that `chassis bootdev` sets).
 */
export interface LanConfSpec {
  /** The first line's comment. */
  readonly comment: string
  readonly name: string
  readonly address: string
  readonly port: number
  readonly serialPort: number
  readonly username: string
  readonly password: string
  readonly chassis:
    | { readonly kind: "startcmd"; readonly machineScript: string; readonly poweroffWaitSec: number; readonly killWaitSec: number }
    | { readonly kind: "chassis_control"; readonly program: string }
  /** Where ipmi_sim's SOL connects: the machine's serial port as a TCP server (a VM's QEMU chardev). */
  readonly sol?: { readonly address: string; readonly port: number }
}

const chassisLines = (c: LanConfSpec["chassis"]) => c.kind === "startcmd"
  ? `  startcmd "${c.machineScript}"
  startnow false
  poweroff_wait ${c.poweroffWaitSec}
  kill_wait ${c.killWaitSec}
`
  : `  chassis_control "${c.program}"
  startnow false
`

export const writeLanConf = (spec: LanConfSpec): string => `# ${spec.comment}
name "${spec.name}"
set_working_mc 0x20
  startlan 1
    addr ${spec.address} ${spec.port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  serial 15 ${spec.address} ${spec.serialPort} codec VM
${spec.sol === undefined ? "" : `  sol "tcp:${spec.sol.address}:${spec.sol.port}" 115200\n`}${chassisLines(spec.chassis)}  user 2 true "${spec.username}" "${spec.password}" admin 10 none md2 md5 straight
`

export const lanConf = (spec: BmcFilesSpec): string => writeLanConf({
  comment: `Written by ironledger for simulated BMC ${spec.name}`,
  name: spec.name, address: spec.address, port: spec.port, serialPort: spec.serialPort,
  username: spec.username, password: spec.password,
  chassis: { kind: "startcmd", machineScript: spec.machineScript, poweroffWaitSec: spec.poweroffWaitSec, killWaitSec: spec.killWaitSec },
})

// Without mc_enable ipmi_sim never opens its LAN port.
export const bmcEmu = `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
`

/**
 * The machine: records its pid (what ipmi_sim will signal) and each boot, then becomes `startCmd`
 * through exec, so that killing that pid stops the whole machine.
 */
export const machineScript = (pidFile: string, bootLog: string, startCmd: string): string => `#!/bin/sh
echo $$ > '${pidFile}'
echo $$ >> '${bootLog}'
exec ${startCmd}
`

/** The default machine does nothing but exist while the chassis is on. */
export const IDLE_MACHINE = "sleep 2147483647"
