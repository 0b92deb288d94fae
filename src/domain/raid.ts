// A node's RAID configuration as Ironic describes it (API 1.12): `target_raid_config` is what an
// operator asks for (PUT /v1/nodes/{id}/states/raid), `raid_config` what the last
// raid.create_configuration step built (empty after raid.delete_configuration). The checks follow
// Ironic's RAID schema (raid_config_schema.json); the software RAID the ramdisk builds is narrower.
import * as E from "fp-ts/lib/Either.js"

export const raidLevels = ["0", "1", "2", "5", "6", "1+0", "5+0", "6+0"] as const
/** What the ramdisk's mdadm builds: one array across every local disk. */
export const softwareRaidLevels = ["0", "1"] as const

/** Ironic's logical disk properties, with the description GET /v1/drivers/{d}/raid/logical_disk_properties shows. */
export const logicalDiskProperties: Readonly<Record<string, string>> = {
  size_gb: "Size in GiB (integer) of the logical disk, or \"MAX\" for all the space the disks have. Required.",
  raid_level: `RAID level of the logical disk: ${raidLevels.join(", ")}. Required.`,
  volume_name: "Name of the volume (the md array's name). Optional.",
  is_root_volume: "Whether this is the root volume the deploy writes to. Optional.",
  share_physical_disks: "Whether the logical disk may share physical disks with others. Optional.",
  disk_type: "hdd, ssd: the kind of disks to use. Optional.",
  interface_type: "sata, scsi, sas: the interface of the disks to use. Optional.",
  number_of_physical_disks: "How many physical disks to use. Optional.",
  controller: "The controller to use; \"software\" for the ramdisk's software RAID. Optional.",
  physical_disks: "The physical disks to use (names). Optional.",
}

export interface LogicalDisk {
  readonly size_gb: number | "MAX"
  readonly raid_level: string
  readonly volume_name?: string
  readonly is_root_volume?: boolean
  readonly controller?: string
  readonly physical_disks?: ReadonlyArray<string>
  readonly number_of_physical_disks?: number
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const checkDisk = (d: unknown, i: number): string | null => {
  const at = `logical_disks[${i}]`
  if (!isRecord(d)) return `${at} must be an object.`
  const unknown = Object.keys(d).filter((k) => !Object.hasOwn(logicalDiskProperties, k))
  if (unknown.length > 0) return `${at} has unknown properties ${unknown.map((k) => k.slice(0, 40)).join(", ")}; known: ${Object.keys(logicalDiskProperties).join(", ")}.`
  const size = d["size_gb"]
  if (size !== "MAX" && !(Number.isInteger(size) && (size as number) > 0)) return `${at}.size_gb must be a positive integer or "MAX".`
  if (!raidLevels.includes(d["raid_level"] as never)) return `${at}.raid_level must be one of ${raidLevels.join(", ")}.`
  for (const k of ["is_root_volume", "share_physical_disks"]) if (d[k] !== undefined && typeof d[k] !== "boolean") return `${at}.${k} must be true or false.`
  for (const k of ["volume_name", "controller", "disk_type", "interface_type"]) if (d[k] !== undefined && typeof d[k] !== "string") return `${at}.${k} must be a string.`
  const n = d["number_of_physical_disks"]
  if (n !== undefined && !(Number.isInteger(n) && (n as number) > 0)) return `${at}.number_of_physical_disks must be a positive integer.`
  const p = d["physical_disks"]
  if (p !== undefined && !(Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === "string" || isRecord(x)))) return `${at}.physical_disks must be a non-empty list.`
  return null
}

/** A target RAID configuration as the API takes it: {} (none) or {logical_disks: [...]}. */
export const checkTargetRaidConfig = (v: unknown): E.Either<string, Record<string, unknown>> => {
  if (!isRecord(v)) return E.left("The target RAID configuration must be a JSON object.")
  if (Object.keys(v).length === 0) return E.right({})
  const other = Object.keys(v).filter((k) => k !== "logical_disks")
  if (other.length > 0) return E.left(`The target RAID configuration takes only logical_disks, not ${other.map((k) => k.slice(0, 40)).join(", ")}.`)
  const disks = v["logical_disks"]
  if (!Array.isArray(disks) || disks.length === 0) return E.left("logical_disks must be a non-empty list.")
  for (const [i, d] of disks.entries()) {
    const refused = checkDisk(d, i)
    if (refused !== null) return E.left(refused)
  }
  if (disks.filter((d) => (d as Record<string, unknown>)["is_root_volume"] === true).length > 1) return E.left("At most one logical disk may be the root volume.")
  return E.right(v)
}

/** What raid.create_configuration hands the ramdisk: flat strings its shell reads. */
export interface SoftwareRaidPlan {
  readonly raid_level: string
  /** "MAX" or the size of each member in MiB. */
  readonly raid_size_mib: string
  readonly raid_volume_name: string
}

/** The one array the ramdisk's software RAID builds from a node's target, or why it can not. */
export const softwareRaidPlan = (target: Readonly<Record<string, unknown>>): E.Either<string, SoftwareRaidPlan> => {
  const checked = checkTargetRaidConfig(target)
  if (E.isLeft(checked)) return checked
  const disks = (checked.right["logical_disks"] ?? []) as ReadonlyArray<LogicalDisk>
  if (disks.length === 0) return E.left("the node has no target_raid_config (set it with PUT /v1/nodes/{id}/states/raid).")
  if (disks.length > 1) return E.left(`the software RAID builds one array across all local disks; the target asks for ${disks.length} logical disks.`)
  const d = disks[0]!
  if (d.controller !== undefined && d.controller !== "software") return E.left(`controller "${d.controller.slice(0, 40)}" is not handled; the ramdisk builds software RAID (controller "software").`)
  if (!softwareRaidLevels.includes(d.raid_level as never)) return E.left(`RAID level ${d.raid_level} is not built by the software RAID (it builds ${softwareRaidLevels.join(", ")}).`)
  const name = d.volume_name ?? "root"
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) return E.left("volume_name: letters, digits, _ and -, at most 32.")
  return E.right({ raid_level: d.raid_level, raid_size_mib: d.size_gb === "MAX" ? "MAX" : String(d.size_gb * 1024), raid_volume_name: name })
}

/** Clean steps whose success replaces the node's raid_config. */
export const RAID_CREATE = "raid.create_configuration"
export const RAID_DELETE = "raid.delete_configuration"

/** The node's raid_config after a step named `name` succeeded with `details`; undefined: unchanged. */
export const raidConfigAfter = (name: string, details: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> | undefined => {
  if (name === RAID_DELETE) return {}
  if (name !== RAID_CREATE) return undefined
  const built = details?.["raid_config"]
  return isRecord(built) ? built : {}
}
