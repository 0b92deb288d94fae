// The machine's disk: a sparse file, created at the configured size on first boot. What a boot
// loader would check is read from it: the MBR's partitions and the root filesystem's UUID.
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync, truncateSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"

export const ensureDisk = (path: string, sizeBytes: number): void => {
  if (existsSync(path)) {
    const size = statSync(path).size
    if (size !== sizeBytes) throw new Error(`disk ${path} holds ${size} bytes but the machine's config says ${sizeBytes}`)
    return
  }
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, "", { flag: "wx" })
  truncateSync(path, sizeBytes)
}

/** Up to `length` bytes of a file from `offset` (fewer past its end). */
export const readAt = (path: string, offset: number, length: number): Buffer => {
  const fd = openSync(path, "r")
  try {
    const buf = Buffer.alloc(length)
    const n = readSync(fd, buf, 0, length, offset)
    return buf.subarray(0, n)
  } finally {
    closeSync(fd)
  }
}

export interface MbrPartition {
  readonly number: number
  readonly type: number
  readonly startBytes: number
  readonly sizeBytes: number
}

/** The primary partitions of the disk's MBR, or why it has no valid one. */
export const readMbr = (path: string): ReadonlyArray<MbrPartition> | string => {
  const mbr = readAt(path, 0, 512)
  if (mbr.length < 512 || mbr[510] !== 0x55 || mbr[511] !== 0xaa) return "the disk has no MBR (no 0x55AA signature)"
  const parts: MbrPartition[] = []
  for (let i = 0; i < 4; i++) {
    const entry = 446 + i * 16
    const type = mbr[entry + 4]!
    const sectors = mbr.readUInt32LE(entry + 12)
    if (type === 0 || sectors === 0) continue
    parts.push({ number: i + 1, type, startBytes: mbr.readUInt32LE(entry + 8) * 512, sizeBytes: sectors * 512 })
  }
  return parts
}

const EXT_MAGIC = 0xef53

/** The ext2/3/4 filesystem UUID at `offset` (its superblock is 1024 bytes in), or why there is none. */
export const readExtUuid = (path: string, offset: number): string | { readonly error: string } => {
  const sb = readAt(path, offset + 1024, 256)
  if (sb.length < 0x78 || sb.readUInt16LE(0x38) !== EXT_MAGIC) return { error: "no ext2/3/4 filesystem there" }
  const hex = sb.subarray(0x68, 0x78).toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Bytes the file really occupies: grows as the conductor writes into the sparse disk. */
export const allocatedBytes = (path: string): number => statSync(path).blocks * 512

export const modifiedAt = (path: string): number => statSync(path).mtimeMs
