// Where a whole-disk image's config drive goes, computed purely from the MBR the image brought and
// the disk's size: a new primary partition over the disk's last 64 MiB, as Ironic's
// create_config_drive_partition makes it with `parted mkpart primary -64MiB -0` (or just below
// 2 TiB on larger disks, which an MBR cannot address beyond).
import * as E from "fp-ts/lib/Either.js"
import { MAX_CONFIG_DRIVE_MB, MiB, SECTOR } from "./partition.ts"

export interface EndPartition {
  readonly number: number
  readonly startBytes: number
  readonly sizeBytes: number
}

const MBR_LIMIT_BYTES = 2 * 1024 * 1024 * MiB
const AREA = MAX_CONFIG_DRIVE_MB * MiB

/** The byte range the config drive partition takes on a disk of `diskBytes`. */
export const configDriveArea = (diskBytes: number): { startBytes: number; endBytes: number } => {
  // Ironic: on a disk beyond 2 TiB, 65 MiB below the limit up to 1 MiB below it.
  if (diskBytes > MBR_LIMIT_BYTES) return { startBytes: MBR_LIMIT_BYTES - AREA - MiB, endBytes: MBR_LIMIT_BYTES - MiB }
  return { startBytes: Math.floor((diskBytes - AREA) / MiB) * MiB, endBytes: Math.floor(diskBytes / SECTOR) * SECTOR }
}

/**
 * The image's MBR with a config drive partition added at the end of the disk, or why it cannot
 * be: no partition table, a GPT disk (`gpt: true`, handled by the GPT variant), four primary
 * partitions already, or a partition reaching into the area.
 */
export const addEndPartition = (
  mbr: Uint8Array, diskBytes: number,
): E.Either<{ readonly gpt: boolean; readonly reason: string }, { readonly mbr: Uint8Array; readonly partition: EndPartition }> => {
  const refuse = (reason: string) => E.left({ gpt: false, reason })
  if (diskBytes < AREA + MiB) return refuse(`the disk (${diskBytes} bytes) is too small for a ${MAX_CONFIG_DRIVE_MB} MiB config drive partition`)
  if (mbr.length < SECTOR || mbr[510] !== 0x55 || mbr[511] !== 0xaa) {
    return refuse("the whole-disk image has no partition table, so there is nowhere to add the config drive partition")
  }
  const view = new DataView(mbr.buffer, mbr.byteOffset, SECTOR)
  const { startBytes, endBytes } = configDriveArea(diskBytes)
  let free = -1
  for (let i = 0; i < 4; i++) {
    const entry = 446 + i * 16
    const type = mbr[entry + 4]!
    if (type === 0xee) return E.left({ gpt: true, reason: "the disk has a GPT partition table" })
    if (type === 0) { if (free < 0) free = i; continue }
    const end = (view.getUint32(entry + 8, true) + view.getUint32(entry + 12, true)) * SECTOR
    if (end > startBytes) {
      return refuse(`partition ${i + 1} of the image ends at byte ${end}, inside the last ${MAX_CONFIG_DRIVE_MB} MiB of the disk where the config drive goes`)
    }
  }
  if (free < 0) return refuse("the whole-disk image uses MBR partitioning and already has 4 primary partitions: no room for a config drive partition")
  const out = Uint8Array.from(mbr.subarray(0, SECTOR))
  const entry = 446 + free * 16
  const outView = new DataView(out.buffer)
  out.set([0x00, 0xfe, 0xff, 0xff], entry)
  out[entry + 4] = 0x83
  out.set([0xfe, 0xff, 0xff], entry + 5)
  outView.setUint32(entry + 8, startBytes / SECTOR, true)
  outView.setUint32(entry + 12, (endBytes - startBytes) / SECTOR, true)
  return E.right({ mbr: out, partition: { number: free + 1, startBytes, sizeBytes: endBytes - startBytes } })
}
