// A real tgtd iSCSI target for tests and the machine simulator.
export { TgtDaemon, TgtFailed, tgtDaemon, type TgtDaemonOptions, type TgtLunSpec, type TgtTarget } from "./daemon.ts"
export { createChapAccount } from "./account.ts"
