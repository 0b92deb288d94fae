// The files one simulated BMC runs from: ipmi_sim's lan.conf and bmc.emu (the configuration
// verified in shared/notes/real-components.md), and the script that becomes "the machine" when the
// BMC's chassis control program (./chassis-control.ts) powers it on.

export interface BmcFilesSpec {
  readonly name: string
  readonly address: string
  readonly port: number
  /** TCP port of the VM serial interface; without that line ipmi_sim rejects power control. */
  readonly serialPort: number
  readonly username: string
  readonly password: string
  /** The chassis control program: power and boot device (without one, `chassis bootdev` is refused). */
  readonly chassisControl: string
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
  if (!/^\/[^"'\s]+$/.test(spec.chassisControl)) return `chassis control path ${spec.chassisControl}: absolute, no spaces or quotes`
  return null
}

/**
 * The one lan.conf writer, for the simulated rack's BMCs and the VMs' alike: the LAN port, the VM
 * interface (`serial ... codec VM`), and the chassis control program that owns power and the boot
 * device. Always one: without it ipmi_sim refuses `chassis bootdev`, and a refused boot device
 * fails the step that asked (a machine left on its disk would not boot the deploy ramdisk).
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
  readonly chassis: { readonly kind: "chassis_control"; readonly program: string }
  /** Answers the BMC's LAN settings (address, mask, MAC) that `lan print` shows, in-band too (ADR 0090). */
  readonly lanConfigProgram?: string
  /** Where ipmi_sim's SOL connects: the machine's serial port as a TCP server (a VM's QEMU chardev). */
  readonly sol?: { readonly address: string; readonly port: number }
}

const chassisLines = (c: LanConfSpec["chassis"]) => `  chassis_control "${c.program}"
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
${spec.lanConfigProgram === undefined ? "" : `    lan_config_program "${spec.lanConfigProgram}"\n`}  endlan
  serial 15 ${spec.address} ${spec.serialPort} codec VM
${spec.sol === undefined ? "" : `  sol "tcp:${spec.sol.address}:${spec.sol.port}" 115200\n`}${chassisLines(spec.chassis)}  user 2 true "${spec.username}" "${spec.password}" admin 10 none md2 md5 straight
`

export const lanConf = (spec: BmcFilesSpec): string => writeLanConf({
  comment: `Written by ironledger for simulated BMC ${spec.name}`,
  name: spec.name, address: spec.address, port: spec.port, serialPort: spec.serialPort,
  username: spec.username, password: spec.password,
  chassis: { kind: "chassis_control", program: spec.chassisControl },
})

// Without mc_enable ipmi_sim never opens its LAN port.
export const bmcEmu = `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
`

/**
 * The machine: records each boot, then becomes `startCmd` through exec, so that killing its pid
 * (which the chassis control program records as the one writer of the pid file) stops the whole
 * machine.
 */
export const machineScript = (bootLog: string, startCmd: string): string => `#!/bin/sh
echo $$ >> '${bootLog}'
exec ${startCmd}
`

/** The default machine does nothing but exist while the chassis is on. */
export const IDLE_MACHINE = "sleep 2147483647"
