// ipmi_sim's lan.conf for one VM's BMC: its LAN port on the namespace's loopback, the VM interface
// QEMU connects to (`serial ... codec VM`), and the chassis control program that owns power and
// the boot device (without it, `chassis bootdev` is refused).
export interface VmBmcSpec {
  readonly name: string
  readonly port: number
  readonly vmPort: number
  readonly username: string
  readonly password: string
  readonly chassisControl: string
}

const PLAIN = /^[A-Za-z0-9._@+=,:-]+$/

export const invalidVmBmc = (spec: VmBmcSpec): string | null => {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(spec.name)) return `BMC name ${JSON.stringify(spec.name)}: 1-32 letters, digits, - or _`
  for (const port of [spec.port, spec.vmPort]) if (!Number.isInteger(port) || port < 1 || port > 65535) return `${port} is not a port number`
  if (!PLAIN.test(spec.username) || spec.username.length > 16) return "BMC user name: 1-16 plain characters"
  if (!PLAIN.test(spec.password) || spec.password.length > 20) return "BMC password: 1-20 plain characters"
  if (!/^\/[^"'\s]+$/.test(spec.chassisControl)) return `chassis control path ${spec.chassisControl}: absolute, no spaces or quotes`
  return null
}

export const vmLanConf = (spec: VmBmcSpec): string => `# Written by ironledger for the BMC of VM ${spec.name}
name "${spec.name}"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${spec.port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  serial 15 127.0.0.1 ${spec.vmPort} codec VM
  chassis_control "${spec.chassisControl}"
  startnow false
  user 2 true "${spec.username}" "${spec.password}" admin 10 none md2 md5 straight
`
