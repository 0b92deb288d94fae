// Just enough qcow2 (v2/v3) for the simulator to give raw bytes without qemu-img: plain, zero and
// zlib-compressed clusters. Backing files, encryption, external data, extended L2 and zstd are refused.
import { constants, inflateRawSync } from "node:zlib"

export const QCOW2_MAGIC = 0x514649fb

export interface Qcow2Header {
  readonly clusterBits: number
  readonly virtualSize: number
  readonly l1Size: number
  readonly l1Offset: number
}

const OFFSET_MASK = 0x00fffffffffffe00n
const COMPRESSED = 1n << 62n
const READS_AS_ZERO = 1n

/** The header, or why the image is refused. */
export const readQcow2Header = (bytes: Uint8Array): Qcow2Header | string => {
  if (bytes.length < 72) return "truncated qcow2 header"
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = view.getUint32(4)
  if (version !== 2 && version !== 3) return `qcow2 version ${version} is not supported`
  if (view.getBigUint64(8) !== 0n) return "qcow2 images with a backing file are refused"
  if (view.getUint32(32) !== 0) return "encrypted images are refused"
  // Incompatible features: bit 0 (dirty: refcounts only) is harmless, any other bit changes the layout.
  if (version === 3 && (view.getBigUint64(72) & ~1n) !== 0n) return "qcow2 features beyond plain zlib clusters are not supported"
  const clusterBits = view.getUint32(20)
  if (clusterBits < 9 || clusterBits > 21) return `qcow2 cluster bits ${clusterBits} out of range`
  return {
    clusterBits,
    virtualSize: Number(view.getBigUint64(24)),
    l1Size: view.getUint32(36),
    l1Offset: Number(view.getBigUint64(40)),
  }
}

/** The guest-visible bytes: what `qemu-img convert -O raw` writes. */
export const qcow2ToRaw = (bytes: Uint8Array, header: Qcow2Header): Uint8Array => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const clusterSize = 1 << header.clusterBits
  const l2Entries = clusterSize / 8
  const raw = new Uint8Array(header.virtualSize)
  const clusters = Math.ceil(header.virtualSize / clusterSize)
  for (let guest = 0; guest < clusters; guest++) {
    const l1Index = Math.floor(guest / l2Entries)
    if (l1Index >= header.l1Size) break
    const l2Offset = Number(view.getBigUint64(header.l1Offset + l1Index * 8) & OFFSET_MASK)
    if (l2Offset === 0) continue // unallocated L2 table: zeros
    const entry = view.getBigUint64(l2Offset + (guest % l2Entries) * 8)
    const at = guest * clusterSize
    const length = Math.min(clusterSize, header.virtualSize - at)
    if ((entry & COMPRESSED) !== 0n) {
      const x = 62n - BigInt(header.clusterBits - 8)
      const host = Number(entry & ((1n << x) - 1n))
      const sectors = Number((entry >> x) & ((1n << (62n - x)) - 1n)) + 1
      const packed = bytes.subarray(host, Math.min(bytes.length, host + sectors * 512 - (host % 512)))
      raw.set(inflateRawSync(packed, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, length), at)
      continue
    }
    if ((entry & READS_AS_ZERO) !== 0n) continue
    const host = Number(entry & OFFSET_MASK)
    if (host !== 0) raw.set(bytes.subarray(host, host + length), at)
  }
  return raw
}
