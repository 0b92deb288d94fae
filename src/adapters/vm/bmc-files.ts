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
  /** The VM's serial port, a TCP server on the namespace's loopback, that SOL connects to (ADR 0095). */
  readonly solPort?: number
}

const PLAIN = /^[A-Za-z0-9._@+=,:-]+$/

export const invalidVmBmc = (spec: VmBmcSpec): string | null => {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(spec.name)) return `BMC name ${JSON.stringify(spec.name)}: 1-32 letters, digits, - or _`
  for (const port of [spec.port, spec.vmPort, ...(spec.solPort === undefined ? [] : [spec.solPort])]) if (!Number.isInteger(port) || port < 1 || port > 65535) return `${port} is not a port number`
  if (!PLAIN.test(spec.username) || spec.username.length > 16) return "BMC user name: 1-16 plain characters"
  if (!PLAIN.test(spec.password) || spec.password.length > 20) return "BMC password: 1-20 plain characters"
  if (!/^\/[^"'\s]+$/.test(spec.chassisControl)) return `chassis control path ${spec.chassisControl}: absolute, no spaces or quotes`
  return null
}

export const vmLanConf = (spec: VmBmcSpec): string => writeLanConf({
  comment: `Written by ironledger for the BMC of VM ${spec.name}`,
  name: spec.name, address: "127.0.0.1", port: spec.port, serialPort: spec.vmPort,
  username: spec.username, password: spec.password,
  chassis: { kind: "chassis_control", program: spec.chassisControl },
  ...(spec.solPort === undefined ? {} : { sol: { address: "127.0.0.1", port: spec.solPort } }),
})
