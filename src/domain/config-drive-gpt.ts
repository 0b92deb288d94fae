// The GPT variant of the whole-disk config drive partition: what Ironic does with `sgdisk -e`
// (move the backup table to the disk's real end, since the image was smaller than the disk) and
// `sgdisk -n 0:-64MB:0` (a new partition over the last 64 MiB of usable space), computed purely:
// the sectors to write, with their CRC32s.
import * as E from "fp-ts/lib/Either.js"
import { MAX_CONFIG_DRIVE_MB, MiB, SECTOR } from "./partition.ts"
import type { EndPartition } from "./config-drive-partition.ts"

/** Bytes the computation reads from the disk's start: protective MBR, header, 128 entries of 128 bytes. */
export const GPT_HEAD_BYTES = 34 * SECTOR

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

export const crc32 = (bytes: Uint8Array): number => {
  let c = 0xffffffff
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** "Linux filesystem data" 0FC63DAF-8483-4772-8E79-3D69D8477DE4 as stored (first three fields little-endian). */
const LINUX_DATA = Uint8Array.from([0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4])

export interface GptEdit {
  readonly writes: ReadonlyArray<{ readonly offset: number; readonly bytes: Uint8Array }>
  readonly partition: EndPartition
}

export const addGptEndPartition = (head: Uint8Array, diskBytes: number, uniqueGuid: Uint8Array): E.Either<string, GptEdit> => {
  if (head.length < GPT_HEAD_BYTES) return E.left("short read of the GPT")
  const hdr = new DataView(head.buffer, head.byteOffset + SECTOR, SECTOR)
  if (String.fromCharCode(...head.subarray(SECTOR, SECTOR + 8)) !== "EFI PART") return E.left("the protective MBR is not followed by a GPT header")
  const headerSize = hdr.getUint32(12, true)
  const entriesLba = Number(hdr.getBigUint64(72, true))
  const count = hdr.getUint32(80, true)
  const entrySize = hdr.getUint32(84, true)
  if (headerSize < 92 || headerSize > SECTOR || entriesLba !== 2 || count * entrySize !== 128 * 128 || entrySize !== 128) {
    return E.left("the GPT is not laid out as 128 entries of 128 bytes from sector 2")
  }
  const lastLba = Math.floor(diskBytes / SECTOR) - 1
  const lastUsable = lastLba - 33
  const start = Math.floor((lastUsable + 1 - (MAX_CONFIG_DRIVE_MB * MiB) / SECTOR) / 2048) * 2048
  const entries = Uint8Array.from(head.subarray(2 * SECTOR, 34 * SECTOR))
  const ev = new DataView(entries.buffer)
  let free = -1
  for (let i = 0; i < count; i++) {
    const at = i * entrySize
    if (entries.subarray(at, at + 16).every((b) => b === 0)) { if (free < 0) free = i; continue }
    const last = Number(ev.getBigUint64(at + 40, true))
    if (last >= start) return E.left(`partition ${i + 1} of the image ends at sector ${last}, inside the last ${MAX_CONFIG_DRIVE_MB} MiB of the disk where the config drive goes`)
  }
  if (free < 0) return E.left("the GPT has no free entry for a config drive partition")
  const at = free * entrySize
  entries.set(LINUX_DATA, at)
  entries.set(uniqueGuid.subarray(0, 16), at + 16)
  ev.setBigUint64(at + 32, BigInt(start), true)
  ev.setBigUint64(at + 40, BigInt(lastUsable), true)
  const entriesCrc = crc32(entries)

  const header = (current: number, backup: number, entriesAt: number) => {
    const h = Uint8Array.from(head.subarray(SECTOR, 2 * SECTOR))
    const v = new DataView(h.buffer)
    v.setBigUint64(24, BigInt(current), true)
    v.setBigUint64(32, BigInt(backup), true)
    v.setBigUint64(48, BigInt(lastUsable), true)
    v.setBigUint64(72, BigInt(entriesAt), true)
    v.setUint32(88, entriesCrc, true)
    v.setUint32(16, 0, true)
    v.setUint32(16, crc32(h.subarray(0, headerSize)), true)
    return h
  }
  // The protective MBR covers the whole disk (or as much as 32 bits can say).
  const mbr = Uint8Array.from(head.subarray(0, SECTOR))
  new DataView(mbr.buffer).setUint32(446 + 12, Math.min(lastLba, 0xffffffff), true)
  return E.right({
    writes: [
      { offset: 0, bytes: mbr },
      { offset: SECTOR, bytes: header(1, lastLba, 2) },
      { offset: 2 * SECTOR, bytes: entries },
      { offset: (lastLba - 32) * SECTOR, bytes: entries },
      { offset: lastLba * SECTOR, bytes: header(lastLba, 1, lastLba - 32) },
    ],
    partition: { number: free + 1, startBytes: start * SECTOR, sizeBytes: (lastUsable + 1 - start) * SECTOR },
  })
}
