export { startRedfishEmulator, type RedfishEmulator, type RedfishEmulatorOptions } from "./server.ts"
export { memoryMachine, machineBehind, bmcAccess, type EmulatedMachine } from "./machine.ts"
export { selfSignedCertificate, type TlsIdentity } from "./tls.ts"
export { chassisControlMachine } from "./chassis-machine.ts"
