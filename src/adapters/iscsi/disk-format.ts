// Byte-level facts about images and disks, as pure functions: what format an image is (from its
// content, never its name), the swap signature, the ext superblock's UUID, the disk identifier, and
// whether an existing MBR holds a given layout. Shared by the iSCSI writer and the simulated one.
import { SECTOR, type PartitionLayout } from "../../domain/partition.ts"

export type DetectedImage =
  | { readonly ok: true; readonly format: "raw" | "qcow2"; readonly virtualSizeBytes: number }
  | { readonly ok: false; readonly problem: string }

/** How many leading bytes `detectImage` needs. */
export const IMAGE_HEADER_BYTES = 512

const ascii = (bytes: Uint8Array, at: number, length: number) =>
  String.fromCharCode(...bytes.subarray(at, at + length))

// Formats qemu would happily read but that this writer does not take: written as raw they would be garbage.
const FOREIGN_MAGICS: ReadonlyArray<[string, number, string]> = [
  ["vmdk", 0, "KDMV"],
  ["vmdk", 0, "# Disk DescriptorFile"],
  ["vhdx", 0, "vhdxfile"],
  ["vpc", 0, "conectix"],
  ["qed", 0, "QED\0"],
  ["luks", 0, "LUKS\xba\xbe"],
  ["qcow (version 1)", 0, "QFI\xfb\0\0\0\x01"],
]

/**
 * The format and virtual size of an image from its first bytes and its file size. qcow2 images that
 * would make qemu open other files (a backing file, an external data file) are refused: an image is
 * data, and must not be able to point the conductor at a file of its choosing.
 */
export const detectImage = (header: Uint8Array, fileBytes: number): DetectedImage => {
  for (const [format, at, magic] of FOREIGN_MAGICS) {
    if (header.length >= at + magic.length && ascii(header, at, magic.length) === magic) {
      return { ok: false, problem: `the image is in ${format} format; only raw and qcow2 images can be written` }
    }
  }
  if (header.length >= 4 && ascii(header, 0, 4) === "QFI\xfb") {
    if (header.length < 104) return { ok: false, problem: "the qcow2 header is truncated" }
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength)
    const version = view.getUint32(4)
    if (version !== 2 && version !== 3) return { ok: false, problem: `unsupported qcow2 version ${version}` }
    if (view.getBigUint64(8) !== 0n) return { ok: false, problem: "the qcow2 image names a backing file; only self-contained images can be written" }
    // qcow2 v3 incompatible feature bits: 1 = corrupt, 2 = external data file.
    const incompatible = version === 3 ? view.getBigUint64(72) : 0n
    if (incompatible & 2n) return { ok: false, problem: "the qcow2 image is marked corrupt" }
    if (incompatible & 4n) return { ok: false, problem: "the qcow2 image keeps its data in an external file; only self-contained images can be written" }
    const size = view.getBigUint64(24)
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, problem: "the qcow2 virtual size is absurd" }
    return { ok: true, format: "qcow2", virtualSizeBytes: Number(size) }
  }
  if (fileBytes === 0) return { ok: false, problem: "the image is empty" }
  return { ok: true, format: "raw", virtualSizeBytes: fileBytes }
}

export const PAGE_SIZE = 4096

/**
 * The first page of a Linux swap area, as mkswap writes it (swap header v1): version 1 at 1024,
 * last page at 1028, no bad pages, the UUID at 1036 and "SWAPSPACE2" in the page's last 10 bytes.
 */
export const swapHeader = (areaBytes: number, uuid: Uint8Array, pageSize = PAGE_SIZE): Uint8Array => {
  if (uuid.length !== 16) throw new RangeError("a swap UUID has 16 bytes")
  const pages = Math.floor(areaBytes / pageSize)
  if (pages < 10) throw new RangeError(`a swap area needs at least 10 pages, got ${areaBytes} bytes`)
  const page = new Uint8Array(pageSize)
  const view = new DataView(page.buffer)
  view.setUint32(1024, 1, true)
  view.setUint32(1028, pages - 1, true)
  page.set(uuid, 1036)
  page.set(Array.from("SWAPSPACE2", (c) => c.charCodeAt(0)), pageSize - 10)
  return page
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

/** 8-4-4-4-12, bytes in order (how blkid prints ext and swap UUIDs). */
export const formatUuid = (bytes: Uint8Array): string => {
  const h = hex(bytes)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

/** A random RFC 4122 version 4 UUID's bytes from 16 random bytes. */
export const uuidV4Bytes = (random: Uint8Array): Uint8Array => {
  const bytes = Uint8Array.from(random.subarray(0, 16))
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  return bytes
}

/** Bytes a partition's first `EXT_PROBE_BYTES` must cover to read an ext superblock. */
export const EXT_PROBE_BYTES = 2048

/** The filesystem UUID of an ext2/3/4 superblock (at 1024, magic 0xEF53 at +0x38, UUID at +0x68), else null. */
export const extFilesystemUuid = (partitionStart: Uint8Array): string | null => {
  if (partitionStart.length < EXT_PROBE_BYTES) return null
  const sb = partitionStart.subarray(1024)
  if (sb[0x38] !== 0x53 || sb[0x39] !== 0xef) return null
  return formatUuid(sb.subarray(0x68, 0x68 + 16))
}

/** Bytes the disk identifier needs: the MBR and, for GPT, the header in LBA 1. */
export const DISK_ID_PROBE_BYTES = 2 * SECTOR

/**
 * The disk identifier as blkid shows PTUUID: the MBR disk signature as 8 hex digits, or the GPT disk
 * GUID when the MBR is protective (type 0xEE). Null when there is no partition table.
 */
export const diskIdentifier = (head: Uint8Array): string | null => {
  if (head.length < SECTOR || head[510] !== 0x55 || head[511] !== 0xaa) return null
  if (head[446 + 4] === 0xee && head.length >= DISK_ID_PROBE_BYTES && ascii(head, SECTOR, 8) === "EFI PART") {
    const g = head.subarray(SECTOR + 56, SECTOR + 72)
    // The first three GUID fields are little-endian on disk.
    const le = (from: number, to: number) => hex(g.subarray(from, to).reverse())
    return `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${hex(g.subarray(8, 10))}-${hex(g.subarray(10, 16))}`
  }
  return new DataView(head.buffer, head.byteOffset, SECTOR).getUint32(440, true).toString(16).padStart(8, "0")
}

export const mbrDiskSignature = (mbr: Uint8Array): number =>
  new DataView(mbr.buffer, mbr.byteOffset, SECTOR).getUint32(440, true)

/**
 * Why an existing MBR does not hold `layout` (same types, starts and sizes, no other partition),
 * or null when it does. Compared by meaning, not bytes: another tool may have written other CHS values.
 */
export const mbrMismatch = (mbr: Uint8Array, layout: PartitionLayout): string | null => {
  if (mbr.length < SECTOR || mbr[510] !== 0x55 || mbr[511] !== 0xaa) return "the disk has no MBR partition table"
  const view = new DataView(mbr.buffer, mbr.byteOffset, SECTOR)
  for (let i = 0; i < 4; i++) {
    const entry = 446 + i * 16
    const type = mbr[entry + 4]!
    const start = view.getUint32(entry + 8, true)
    const size = view.getUint32(entry + 12, true)
    const wanted = layout.partitions[i]
    if (!wanted) {
      if (type !== 0) return `partition ${i + 1} exists on the disk but not in the layout`
      continue
    }
    const want = { type: wanted.mbrType, start: wanted.startBytes / SECTOR, size: wanted.sizeBytes / SECTOR }
    if (type !== want.type || start !== want.start || size !== want.size) {
      return `partition ${i + 1} (${wanted.role}) is type 0x${type.toString(16)} at sector ${start}, ${size} sectors ` +
        `on the disk; the layout wants type 0x${want.type.toString(16)} at sector ${want.start}, ${want.size} sectors`
    }
  }
  return null
}

/** The percentages in a chunk of `qemu-img convert -p` output ("    (42.17/100%)\r"). */
export const progressPercents = (chunk: string): number[] =>
  Array.from(chunk.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g), (m) => Number(m[1]))
