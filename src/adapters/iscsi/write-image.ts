// The deploy's disk writing, once for every way of reaching a disk: check everything that can be
// checked before the first byte is written (image format and size, the layout against the disk, the
// existing table when ephemeral data is preserved), then wipe old metadata, write the MBR, swap
// signature and ephemeral filesystem, then the image into root (or over the whole disk).
import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import { encodeMbr, rootPartition, type Partition, type PartitionLayout } from "../../domain/partition.ts"
import type { WriteRequest, WriteResult } from "../../ports/block-writer.ts"
import {
  diskIdentifier, DISK_ID_PROBE_BYTES, EXT_PROBE_BYTES, extFilesystemUuid, mbrDiskSignature, mbrMismatch, swapHeader, uuidV4Bytes,
} from "./disk-format.ts"
import { DiskFault, type DiskAccess, type DiskWrite, type SourceImage } from "./disk-access.ts"
import { buildExt4, inspectImage } from "./local-media.ts"

/** Old partition tables and filesystem signatures live here (GPT: 34 sectors at each end). */
export const WIPE_BYTES = 18 * 1024
/** The label Ironic gives the ephemeral filesystem (cloud-init looks for it). */
export const EPHEMERAL_LABEL = "ephemeral0"

const refuse = (reason: string) => Effect.fail(new DiskFault({ reason }))

const wipeWrites = (diskBytes: number): DiskWrite[] => [
  { offset: 0, zeros: Math.min(WIPE_BYTES, diskBytes) },
  { offset: Math.max(0, diskBytes - WIPE_BYTES), zeros: Math.min(WIPE_BYTES, diskBytes) },
]

/** Zeroes the first and last 18 KiB: no partition table or RAID/filesystem signature survives. */
export const wipeDisk = (disk: DiskAccess): Effect.Effect<void, DiskFault> =>
  Effect.flatMap(disk.sizeBytes, (size) => disk.write(wipeWrites(size)))

const randomDiskSignature = (): number => {
  const value = randomBytes(4).readUInt32LE(0)
  return value === 0 ? 1 : value
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, "0")

/** Progress reporting that only ever goes up, ending at the total. */
const progressReporter = (total: number, onProgress: WriteRequest["onProgress"]) => {
  let last = -1
  return (done: number) => {
    const clamped = Math.min(total, Math.max(0, done))
    if (clamped <= last) return
    last = clamped
    onProgress?.(clamped, total)
  }
}

const copyWithProgress = (disk: DiskAccess, image: SourceImage, offset: number, regionBytes: number, req: WriteRequest) =>
  Effect.gen(function* () {
    const report = progressReporter(image.virtualSizeBytes, req.onProgress)
    report(0)
    yield* disk.copyImage(image, offset, regionBytes, report)
    report(image.virtualSizeBytes)
  })

const writeWholeDisk = (disk: DiskAccess, image: SourceImage, diskBytes: number, req: WriteRequest) =>
  Effect.gen(function* () {
    if (req.preserveEphemeral) {
      return yield* refuse("preserve_ephemeral needs a partition image: a whole-disk image replaces the whole disk")
    }
    if (image.virtualSizeBytes > diskBytes) {
      return yield* refuse(`the image's virtual size (${image.virtualSizeBytes} bytes) is larger than the disk (${diskBytes} bytes)`)
    }
    yield* disk.write(wipeWrites(diskBytes))
    yield* copyWithProgress(disk, image, 0, diskBytes, req)
    const head = yield* disk.read({ offset: 0, length: DISK_ID_PROBE_BYTES })
    return { rootUuid: null, diskId: diskIdentifier(head) }
  })

const find = (layout: PartitionLayout, role: Partition["role"]) => layout.partitions.find((p) => p.role === role)

const writePartitioned = (disk: DiskAccess, image: SourceImage, diskBytes: number, layout: PartitionLayout, req: WriteRequest, scratch: string) =>
  Effect.gen(function* () {
    const root = rootPartition(layout)
    const last = layout.partitions[layout.partitions.length - 1]!
    const layoutEnd = last.startBytes + last.sizeBytes
    if (layoutEnd > diskBytes) {
      return yield* refuse(`the partition layout needs ${layoutEnd} bytes but the disk has ${diskBytes}`)
    }
    if (image.virtualSizeBytes > root.sizeBytes) {
      return yield* refuse(
        `the image's virtual size (${image.virtualSizeBytes} bytes) is larger than the root partition (${root.sizeBytes} bytes)`,
      )
    }
    const swap = find(layout, "swap")
    const ephemeral = find(layout, "ephemeral")
    const swapWrites: DiskWrite[] = swap ? [{ offset: swap.startBytes, bytes: swapHeader(swap.sizeBytes, uuidV4Bytes(randomBytes(16))) }] : []

    let signature: number
    if (req.preserveEphemeral) {
      // Only root and swap are rewritten; the table must already be this layout's, or ephemeral
      // data would sit under different partitions.
      const mbr = yield* disk.read({ offset: 0, length: 512 })
      const mismatch = mbrMismatch(mbr, layout)
      if (mismatch) return yield* refuse(`cannot preserve the ephemeral partition: ${mismatch}`)
      signature = mbrDiskSignature(mbr)
      yield* disk.write(swapWrites)
    } else {
      // Built locally first: a failing mkfs must not leave a half-written disk.
      const fs = ephemeral ? yield* buildExt4(scratch, ephemeral.sizeBytes, EPHEMERAL_LABEL) : null
      signature = randomDiskSignature()
      yield* disk.write([...wipeWrites(diskBytes), { offset: 0, bytes: encodeMbr(layout, signature) }, ...swapWrites])
      if (fs && ephemeral) yield* disk.copyFilesystem(fs, ephemeral.startBytes)
    }
    yield* copyWithProgress(disk, image, root.startBytes, root.sizeBytes, req)
    const rootStart = yield* disk.read({ offset: root.startBytes, length: EXT_PROBE_BYTES })
    return { rootUuid: extFilesystemUuid(rootStart), diskId: hex8(signature) }
  })

/** Writes `req` onto `disk`; `scratch` is a private directory for local files. */
export const writeImageOnto = (disk: DiskAccess, req: WriteRequest, scratch: string): Effect.Effect<WriteResult, DiskFault> =>
  Effect.gen(function* () {
    const started = performance.now()
    const image = yield* inspectImage(req.imagePath)
    const diskBytes = yield* disk.sizeBytes
    const ids = req.layout === null
      ? yield* writeWholeDisk(disk, image, diskBytes, req)
      : yield* writePartitioned(disk, image, diskBytes, req.layout, req, scratch)
    return { ...ids, bytesWritten: image.virtualSizeBytes, durationMs: Math.round(performance.now() - started) }
  })
