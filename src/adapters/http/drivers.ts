// What each driver needs in driver_info, and GET .../validate: per interface, whether the node has
// what that interface needs (computed from driver_info, instance_info and ports, as Ironic does).
import type { NodeView } from "../../application/node-service.ts"
import { badRequest } from "./errors.ts"

type Info = Readonly<Record<string, unknown>>

const portLike = (v: unknown) =>
  (typeof v === "number" && Number.isInteger(v) && v > 0 && v < 65536) ||
  (typeof v === "string" && /^\d{1,5}$/.test(v) && Number(v) > 0 && Number(v) < 65536)

/** Checks the values a driver will read, when present; absent ones are reported by validate. */
export const checkDriverInfo = (driver: string, info: Info): void => {
  if (driver !== "ipmi") return
  for (const key of ["ipmi_address", "ipmi_username", "ipmi_password", "deploy_kernel", "deploy_ramdisk"]) {
    const v = info[key]
    if (v !== undefined && v !== null && typeof v !== "string") throw badRequest(`driver_info.${key} must be a string.`)
  }
  const port = info["ipmi_port"]
  if (port !== undefined && port !== null && !portLike(port)) {
    throw badRequest(`driver_info.ipmi_port must be a TCP port number, got ${JSON.stringify(port)?.slice(0, 40)}.`)
  }
}

interface Result { readonly result: boolean | null; readonly reason: string | null }
const good: Result = { result: true, reason: null }
const bad = (reason: string): Result => ({ result: false, reason })
const unsupported = (name: string): Result => ({ result: null, reason: `not supported (no ${name} interface)` })

const missing = (info: Info, keys: ReadonlyArray<string>) =>
  keys.filter((k) => info[k] === undefined || info[k] === null || info[k] === "")

export const validateNode = (n: NodeView): Record<string, Result> => {
  const common = {
    bios: unsupported("bios"), console: unsupported("console"), raid: unsupported("raid"),
    rescue: unsupported("rescue"), network: good, storage: good,
  }
  if (n.driver !== "ipmi") {
    return { ...common, boot: good, deploy: good, inspect: good, management: good, power: good }
  }
  const creds = missing(n.driverInfo, ["ipmi_address"])
  const power = creds.length === 0 ? good
    : bad(`Missing the following IPMI credentials in node's driver_info: ${creds.join(", ")}.`)
  const deployFiles = missing(n.driverInfo, ["deploy_kernel", "deploy_ramdisk"])
  const boot = deployFiles.length > 0
    ? bad(`Cannot validate PXE boot: some parameters were missing in node's driver_info. Missing are: ${deployFiles.join(", ")}.`)
    : n.ports.length === 0 ? bad(`Node ${n.uuid} does not have any port associated with it.`) : good
  // Partition or whole-disk follows Ironic's rule (kernel + ramdisk means partition); sizes default.
  const image = missing(n.instanceInfo, ["image_source"])
  const deploy = image.length === 0 ? good
    : bad(`Cannot validate iSCSI deploy: some parameters were missing in node's instance_info. Missing are: ${image.join(", ")}.`)
  return { ...common, boot, deploy, inspect: unsupported("inspect"), management: power, power }
}
