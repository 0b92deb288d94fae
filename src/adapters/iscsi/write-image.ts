// The deploy's disk writing, once for every way of reaching a disk: check everything that can be
// checked before the first byte is written (image format and size, the layout against the disk, the
// existing table when ephemeral data is preserved), then wipe old metadata, write the MBR, swap
// signature and ephemeral filesystem, then the image into root (or over the whole disk).
import { randomBytes } from "node:crypto"
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import { addGptEndPartition, GPT_HEAD_BYTES } from "../../domain/config-drive-gpt.ts"
import { addEndPartition, configDriveArea } from "../../domain/config-drive-partition.ts"
import { encodeMbr, MAX_CONFIG_DRIVE_MB, MiB, rootPartition, type Partition, type PartitionLayout } from "../../domain/partition.ts"
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
    const drive = req.configDrive
    if (drive !== undefined && image.virtualSizeBytes > configDriveArea(diskBytes).startBytes) {
      return yield* refuse(
        `the image's virtual size (${image.virtualSizeBytes} bytes) reaches into the last ${MAX_CONFIG_DRIVE_MB} MiB ` +
          `of the disk (${diskBytes} bytes), where the config drive partition goes`,
      )
    }
    yield* disk.write(wipeWrites(diskBytes))
    yield* copyWithProgress(disk, image, 0, diskBytes, req)
    if (drive !== undefined) yield* addConfigDrivePartition(disk, diskBytes, drive)
    const head = yield* disk.read({ offset: 0, length: DISK_ID_PROBE_BYTES })
    return { rootUuid: null, diskId: diskIdentifier(head) }
  })

const addGptConfigDrivePartition = (disk: DiskAccess, diskBytes: number, drive: Uint8Array) =>
  Effect.gen(function* () {
    const head = yield* disk.read({ offset: 0, length: GPT_HEAD_BYTES })
    const edit = addGptEndPartition(head, diskBytes, uuidV4Bytes(randomBytes(16)))
    if (E.isLeft(edit)) return yield* refuse(`cannot add the config drive partition: ${edit.left}`)
    const { partition } = edit.right
    if (drive.length > partition.sizeBytes) return yield* refuse(`the config drive (${drive.length} bytes) is larger than its partition`)
    yield* disk.write([...edit.right.writes, ...configDriveWrites(partition.startBytes, drive)])
  })

/** A whole-disk image's config drive: a partition added at the disk's end (ADR 0053), the drive written into it. */
const addConfigDrivePartition = (disk: DiskAccess, diskBytes: number, drive: Uint8Array) =>
  Effect.gen(function* () {
    const mbr = yield* disk.read({ offset: 0, length: 512 })
    const added = addEndPartition(mbr, diskBytes)
    if (E.isLeft(added)) {
      if (added.left.gpt) return yield* addGptConfigDrivePartition(disk, diskBytes, drive)
      return yield* refuse(`cannot add the config drive partition: ${added.left.reason}`)
    }
    const { partition } = added.right
    if (drive.length > partition.sizeBytes) return yield* refuse(`the config drive (${drive.length} bytes) is larger than its partition`)
    yield* disk.write([{ offset: 0, bytes: added.right.mbr }, ...configDriveWrites(partition.startBytes, drive)])
  })

/** The drive, then zeros to the next MiB: no stale filesystem signature shows through right after it. */
const configDriveWrites = (offset: number, drive: Uint8Array): DiskWrite[] => {
  const padded = Math.ceil(drive.length / MiB) * MiB
  return padded > drive.length
    ? [{ offset, bytes: drive }, { offset: offset + drive.length, zeros: padded - drive.length }]
    : [{ offset, bytes: drive }]
}

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
    const configDrive = find(layout, "configdrive")
    if ((configDrive === undefined) !== (req.configDrive === undefined)) {
      return yield* refuse(configDrive ? "the layout has a config drive partition but no config drive was given" : "a config drive was given but the layout has no partition for it")
    }
    if (configDrive && req.configDrive!.length > configDrive.sizeBytes) {
      return yield* refuse(`the config drive (${req.configDrive!.length} bytes) is larger than its partition (${configDrive.sizeBytes} bytes)`)
    }
    const driveWrites: DiskWrite[] = configDrive ? configDriveWrites(configDrive.startBytes, req.configDrive!) : []

    let signature: number
    if (req.preserveEphemeral) {
      // Only root and swap are rewritten; the table must already be this layout's, or ephemeral
      // data would sit under different partitions.
      const mbr = yield* disk.read({ offset: 0, length: 512 })
      const mismatch = mbrMismatch(mbr, layout)
      if (mismatch) return yield* refuse(`cannot preserve the ephemeral partition: ${mismatch}`)
      signature = mbrDiskSignature(mbr)
      yield* disk.write([...swapWrites, ...driveWrites])
    } else {
      // Built locally first: a failing mkfs must not leave a half-written disk.
      const fs = ephemeral ? yield* buildExt4(scratch, ephemeral.sizeBytes, EPHEMERAL_LABEL) : null
      signature = randomDiskSignature()
      yield* disk.write([...wipeWrites(diskBytes), { offset: 0, bytes: encodeMbr(layout, signature) }, ...swapWrites, ...driveWrites])
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
