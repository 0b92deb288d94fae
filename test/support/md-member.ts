// Reads a software RAID member's disk file from the host (ADR 0130): where the array's data starts
// (md metadata 1.2 keeps its superblock 4 KiB into the member and says where the data begins), and
// the partitions of the array's MBR there, so a test can find the root filesystem on every member.
import { closeSync, openSync, readSync } from "node:fs"

const MD_MAGIC = 0xa92b4efc
const SUPERBLOCK_1_2_AT = 4096

const readAt = (path: string, offset: number, length: number): Buffer => {
  const fd = openSync(path, "r")
  try {
    const buf = Buffer.alloc(length)
    const n = readSync(fd, buf, 0, length, offset)
    return buf.subarray(0, n)
  } finally { closeSync(fd) }
}

/** The byte offset of the array's data on this member, or an error saying why it is no member. */
export const mdDataOffset = (disk: string): number => {
  const sb = readAt(disk, SUPERBLOCK_1_2_AT, 256)
  if (sb.length < 256 || sb.readUInt32LE(0) !== MD_MAGIC) throw new Error(`${disk}: no md superblock (metadata 1.2) at 4 KiB`)
  if (sb.readUInt32LE(4) !== 1) throw new Error(`${disk}: md superblock major version ${sb.readUInt32LE(4)}, not 1`)
  return Number(sb.readBigUInt64LE(128)) * 512
}

/** Byte ranges of the MBR's primary partitions at `offset` of the file. */
export const mbrPartitionsAt = (disk: string, offset: number): ReadonlyArray<{ readonly start: number; readonly bytes: number }> => {
  const mbr = readAt(disk, offset, 512)
  if (mbr.length < 512 || mbr[510] !== 0x55 || mbr[511] !== 0xaa) throw new Error(`${disk}: no MBR at byte ${offset}`)
  const out = []
  for (let i = 0; i < 4; i++) {
    const e = 446 + i * 16
    const sectors = mbr.readUInt32LE(e + 12)
    if (mbr[e + 4] !== 0 && sectors > 0) out.push({ start: offset + mbr.readUInt32LE(e + 8) * 512, bytes: sectors * 512 })
  }
  return out
}

export const bytesAt = readAt
