// ipmi_sim's lan.conf for one VM's BMC: its LAN port on the namespace's loopback, the VM interface
// QEMU connects to (`serial ... codec VM`), and the chassis control program that owns power and
// the boot device (without it, `chassis bootdev` is refused).
import { writeLanConf } from "../sim/bmc/config-files.ts"

export interface VmBmcSpec {
  readonly name: string
  readonly port: number
  readonly vmPort: number
  readonly username: string
  readonly password: string
  readonly chassisControl: string
  /** Where ipmi_sim listens (default 127.0.0.1); 0.0.0.0: every address of the rack's namespace. */
  readonly listenAddress?: string
  /** The program that answers the LAN settings `lan print` shows (the address discovery reads in-band). */
  readonly lanConfigProgram?: string
  /** The VM's serial port, a TCP server on the namespace's loopback, that SOL connects to (ADR 0095). */
  readonly solPort?: number
}

/**
 * ipmi_sim's lan_config_program for a VM's BMC: ipmi_sim runs it as `PROG DEVICE get PARAM...` and
 * reads `param:value` lines. Its address is one the service reaches the BMC at (ADR 0090).
 */
export const vmLanConfigScript = (address: string, mac: string): string => `#!/bin/sh
[ "$2" = get ] || exit 0
shift 2
for p in "$@"; do
  case $p in
    ip_addr_src) echo "ip_addr_src:static" ;;
    ip_addr) echo "ip_addr:${address}" ;;
    subnet_mask) echo "subnet_mask:255.255.255.0" ;;
    mac_addr) echo "mac_addr:${mac}" ;;
    default_gw_ip_addr|backup_gw_ip_addr) echo "$p:0.0.0.0" ;;
    default_gw_mac_addr|backup_gw_mac_addr) echo "$p:00:00:00:00:00:00" ;;
  esac
done
`

const PLAIN = /^[A-Za-z0-9._@+=,:-]+$/

export const invalidVmBmc = (spec: VmBmcSpec): string | null => {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(spec.name)) return `BMC name ${JSON.stringify(spec.name)}: 1-32 letters, digits, - or _`
  for (const port of [spec.port, spec.vmPort, ...(spec.solPort === undefined ? [] : [spec.solPort])]) if (!Number.isInteger(port) || port < 1 || port > 65535) return `${port} is not a port number`
  if (!PLAIN.test(spec.username) || spec.username.length > 16) return "BMC user name: 1-16 plain characters"
  if (!PLAIN.test(spec.password) || spec.password.length > 20) return "BMC password: 1-20 plain characters"
  if (!/^\/[^"'\s]+$/.test(spec.chassisControl)) return `chassis control path ${spec.chassisControl}: absolute, no spaces or quotes`
  if (spec.lanConfigProgram !== undefined && !/^\/[^"'\s]+( [A-Za-z0-9]+)?$/.test(spec.lanConfigProgram)) return `LAN config program ${spec.lanConfigProgram}: absolute, no quotes`
  if (spec.listenAddress !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(spec.listenAddress)) return `BMC listen address ${spec.listenAddress} is not IPv4`
  return null
}

export const vmLanConf = (spec: VmBmcSpec): string => writeLanConf({
  comment: `Written by ironledger for the BMC of VM ${spec.name}`,
  name: spec.name, address: spec.listenAddress ?? "127.0.0.1", port: spec.port, serialPort: spec.vmPort,
  ...(spec.lanConfigProgram === undefined ? {} : { lanConfigProgram: spec.lanConfigProgram }),
  username: spec.username, password: spec.password,
  chassis: { kind: "chassis_control", program: spec.chassisControl },
  ...(spec.solPort === undefined ? {} : { sol: { address: "127.0.0.1", port: spec.solPort } }),
})
