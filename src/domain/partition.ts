// The disk layout of a partition-image deploy, computed purely. MBR; the first partition starts at
// 1 MiB; ephemeral, then swap, then the config drive, then root last (so a rebuild can keep
// everything before root), in the order Ironic's partitioner uses.
import * as E from "fp-ts/lib/Either.js"

export const MiB = 1024 * 1024
/** Ironic's limit on a config drive (MAX_CONFIG_DRIVE_SIZE_MB), and the size of its partition at a whole disk's end. */
export const MAX_CONFIG_DRIVE_MB = 64
export const GiB = 1024 * MiB
export const SECTOR = 512

export interface PartitionRequest {
  readonly rootGb: number
  readonly swapMb: number
  readonly ephemeralGb: number
  /** Size of the whole disk in bytes; the layout must fit inside it. */
  readonly diskBytes: number
  /** Whole MiB of the config drive partition; 0 or absent: none. */
  readonly configDriveMb?: number
}

export type PartitionRole = "ephemeral" | "swap" | "configdrive" | "root"

export interface Partition {
  readonly number: number
  readonly role: PartitionRole
  readonly startBytes: number
  readonly sizeBytes: number
  /** MBR partition type byte: 0x83 Linux, 0x82 Linux swap. */
  readonly mbrType: number
}

export interface PartitionLayout {
  readonly diskBytes: number
  readonly partitions: ReadonlyArray<Partition>
}

const isWhole = (n: number) => Number.isSafeInteger(n) && n >= 0

export const computeLayout = (req: PartitionRequest): E.Either<string, PartitionLayout> => {
  if (!isWhole(req.rootGb) || req.rootGb < 1) return E.left(`root_gb must be a whole number >= 1, got ${req.rootGb}`)
  if (!isWhole(req.swapMb)) return E.left(`swap_mb must be a whole number >= 0, got ${req.swapMb}`)
  if (!isWhole(req.ephemeralGb)) return E.left(`ephemeral_gb must be a whole number >= 0, got ${req.ephemeralGb}`)
  if (!isWhole(req.diskBytes)) return E.left(`disk size must be a whole number of bytes, got ${req.diskBytes}`)
  const configDriveMb = req.configDriveMb ?? 0
  if (!isWhole(configDriveMb) || configDriveMb > MAX_CONFIG_DRIVE_MB) {
    return E.left(`the config drive partition must be 0-${MAX_CONFIG_DRIVE_MB} MiB, got ${configDriveMb}`)
  }
  const wanted: Array<[PartitionRole, number, number]> = []
  if (req.ephemeralGb > 0) wanted.push(["ephemeral", req.ephemeralGb * GiB, 0x83])
  if (req.swapMb > 0) wanted.push(["swap", req.swapMb * MiB, 0x82])
  if (configDriveMb > 0) wanted.push(["configdrive", configDriveMb * MiB, 0x83])
  wanted.push(["root", req.rootGb * GiB, 0x83])
  let cursor = MiB
  const partitions = wanted.map(([role, sizeBytes, mbrType], i): Partition => {
    const p = { number: i + 1, role, startBytes: cursor, sizeBytes, mbrType }
    cursor += sizeBytes
    return p
  })
  if (cursor > req.diskBytes) {
    return E.left(
      `the layout needs ${cursor} bytes (root ${req.rootGb} GiB, swap ${req.swapMb} MiB, ` +
        `ephemeral ${req.ephemeralGb} GiB after 1 MiB) but the disk has ${req.diskBytes}`,
    )
  }
  // MBR addresses sectors with 32-bit fields.
  if (cursor / SECTOR > 0xffffffff) return E.left("the layout exceeds what an MBR can address (2 TiB)")
  return E.right({ diskBytes: req.diskBytes, partitions })
}

export const rootPartition = (layout: PartitionLayout): Partition =>
  layout.partitions.find((p) => p.role === "root")!

/**
 * The 512-byte MBR for a layout: boot code left zero, four primary entries, 0x55AA signature.
 * `diskSignature` is the 32-bit identifier Linux shows as the PARTUUID prefix.
 */
export const encodeMbr = (layout: PartitionLayout, diskSignature: number): Uint8Array => {
  const mbr = new Uint8Array(SECTOR)
  const view = new DataView(mbr.buffer)
  view.setUint32(440, diskSignature >>> 0, true)
  layout.partitions.forEach((p, i) => {
    const entry = 446 + i * 16
    // CHS fields hold the "beyond CHS" marker values that tools write for LBA-only disks.
    mbr.set([0x00, 0xfe, 0xff, 0xff], entry)
    mbr[entry + 4] = p.mbrType
    mbr.set([0xfe, 0xff, 0xff], entry + 5)
    view.setUint32(entry + 8, p.startBytes / SECTOR, true)
    view.setUint32(entry + 12, p.sizeBytes / SECTOR, true)
  })
  mbr[510] = 0x55
  mbr[511] = 0xaa
  return mbr
}
