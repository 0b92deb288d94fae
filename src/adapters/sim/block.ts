// The simulated BlockWriter (fake hardware): each exported "disk" is a local file, written with plain
// file I/O through the same layout logic as the iSCSI writer (MBR, wipe, swap, ephemeral, image into
// root). Only decoding a qcow2 image needs qemu-img; raw images are copied byte for byte here.
import { createHash, timingSafeEqual } from "node:crypto"
import { open, stat } from "node:fs/promises"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { BlockWriteFailed, BlockWriter, type BlockTarget } from "../../ports/block-writer.ts"
import { progressPercents } from "../iscsi/disk-format.ts"
import { DiskFault, type BuiltFilesystem, type ByteRange, type DiskAccess, type DiskWrite, type SourceImage } from "../iscsi/disk-access.ts"
import { withScratchDir } from "../iscsi/local-media.ts"
import { runCommand } from "../iscsi/process.ts"
import { targetName, targetProblem } from "../iscsi/qemu-iscsi-disk.ts"
import { wipeDisk, writeImageOnto } from "../iscsi/write-image.ts"

export interface SimDisk {
  /** The disk: a local (usually sparse) file whose size is the disk's. */
  readonly path: string
  /** When given, writing requires these credentials, as a CHAP-protected target would. */
  readonly chap?: { readonly user: string; readonly secret: Redacted.Redacted<string> }
}

type TargetAddress = Pick<BlockTarget, "portal" | "port" | "iqn" | "lun">

/** The disks the simulated nodes' ramdisks export, by target address. */
export class SimDisks {
  readonly #disks = new Map<string, SimDisk>()
  attach(target: TargetAddress, disk: SimDisk): void { this.#disks.set(targetName(target), disk) }
  detach(target: TargetAddress): void { this.#disks.delete(targetName(target)) }
  lookup(target: TargetAddress): SimDisk | undefined { return this.#disks.get(targetName(target)) }
}

const CHUNK = 4 * 1024 * 1024
const fault = (reason: string) => new DiskFault({ reason })
const io = <A>(what: string, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (error) => fault(`${what}: ${error instanceof Error ? error.message : String(error)}`) })

/** Copies `length` bytes from `src` at `from` to the disk file at `to`, reporting bytes done. */
const copyRange = async (src: string, from: number, length: number, disk: string, to: number, onProgress?: (done: number) => void) => {
  const input = await open(src, "r")
  const output = await open(disk, "r+")
  try {
    const buffer = Buffer.alloc(CHUNK)
    for (let done = 0; done < length;) {
      const { bytesRead } = await input.read(buffer, 0, Math.min(CHUNK, length - done), from + done)
      if (bytesRead === 0) throw new Error(`${src} ended early`)
      await output.write(buffer, 0, bytesRead, to + done)
      done += bytesRead
      onProgress?.(done)
    }
  } finally {
    await input.close()
    await output.close()
  }
}

/** A local file as a disk. */
export const fileDisk = (path: string, name: string): DiskAccess => {
  const sizeBytes = io(`reading the size of ${path}`, async () => (await stat(path)).size)

  const read = (range: ByteRange) =>
    io(`reading ${range.length} bytes at ${range.offset}`, async () => {
      const file = await open(path, "r")
      try {
        const bytes = new Uint8Array(range.length)
        const { bytesRead } = await file.read(bytes, 0, range.length, range.offset)
        if (bytesRead !== range.length) throw new Error("short read (beyond the end of the disk)")
        return bytes
      } finally {
        await file.close()
      }
    })

  const write = (writes: ReadonlyArray<DiskWrite>) =>
    io(`writing ${writes.length} range(s)`, async () => {
      const file = await open(path, "r+")
      try {
        const size = (await file.stat()).size
        for (const w of writes) {
          const length = "bytes" in w ? w.bytes.length : w.zeros
          // A real LUN fails a write past its end rather than growing.
          if (w.offset + length > size) throw new Error(`range at ${w.offset} (${length} bytes) ends beyond the disk`)
          if ("bytes" in w) await file.write(w.bytes, 0, w.bytes.length, w.offset)
          else {
            const zeros = Buffer.alloc(Math.min(CHUNK, w.zeros))
            for (let at = 0; at < w.zeros; at += zeros.length) await file.write(zeros, 0, Math.min(zeros.length, w.zeros - at), w.offset + at)
          }
        }
      } finally {
        await file.close()
      }
    })

  const copyImage = (image: SourceImage, offset: number, regionBytes: number, onProgress: (bytesDone: number) => void) =>
    image.format === "raw"
      ? io("writing the image", () => copyRange(image.path, 0, image.virtualSizeBytes, path, offset, onProgress))
      : runCommand("qemu-img", [
          "convert", "-n", "-p",
          "--image-opts", `driver=qcow2,file.driver=file,file.filename=${image.path.replaceAll(",", ",,")}`,
          "--target-image-opts", `driver=raw,offset=${offset},size=${regionBytes},file.driver=file,file.filename=${path.replaceAll(",", ",,")}`,
        ], {
          timeoutMs: 24 * 3600_000,
          silenceTimeoutMs: 300_000,
          onStdout: (chunk) => { for (const p of progressPercents(chunk)) onProgress(Math.floor((p / 100) * image.virtualSizeBytes)) },
        }).pipe(Effect.mapError((e) => fault(`writing the image: ${e.reason}`)), Effect.asVoid)

  const copyFilesystem = (fs: BuiltFilesystem, offset: number) =>
    io("writing the filesystem", async () => {
      for (const extent of fs.dataExtents) await copyRange(fs.path, extent.offset, extent.length, path, offset + extent.offset)
    })

  return { name, sizeBytes, read, write, copyImage, copyFilesystem }
}

const digest = (value: string) => createHash("sha256").update(value).digest()

/** What a CHAP-protected target would say to these credentials, or null when it lets them in. */
const loginProblem = (disk: SimDisk, target: BlockTarget): string | null => {
  if (!disk.chap) return null
  if (!target.chap) return "the target requires CHAP authentication and no credentials were given"
  const userOk = target.chap.user === disk.chap.user
  const secretOk = timingSafeEqual(digest(Redacted.value(target.chap.secret)), digest(Redacted.value(disk.chap.secret)))
  return userOk && secretOk ? null : `CHAP authentication failed: the target refused user ${JSON.stringify(target.chap.user)} with the given secret`
}

export interface SimBlockWriterOptions {
  readonly scratchDir?: string
}

export const simBlockWriter = (disks: SimDisks, options: SimBlockWriterOptions = {}): BlockWriter["Service"] => {
  const onDisk = <A>(target: BlockTarget, use: (disk: DiskAccess, scratch: string) => Effect.Effect<A, DiskFault>) => {
    const name = targetName(target)
    const failed = (reason: string) => new BlockWriteFailed({ target: name, reason })
    const problem = targetProblem(target)
    if (problem) return Effect.fail(failed(problem))
    const disk = disks.lookup(target)
    if (!disk) return Effect.fail(failed("the target refused the login: Target not found"))
    const refused = loginProblem(disk, target)
    if (refused) return Effect.fail(failed(refused))
    return withScratchDir(options.scratchDir, (scratch) => use(fileDisk(disk.path, name), scratch)).pipe(
      Effect.mapError((f) => failed(f.reason)),
    )
  }
  return {
    writeImage: (req) => onDisk(req.target, (disk, scratch) => writeImageOnto(disk, req, scratch)),
    wipe: (target) => onDisk(target, (disk) => wipeDisk(disk)),
  }
}

export const simBlockWriterLayer = (disks: SimDisks, options: SimBlockWriterOptions = {}): Layer.Layer<BlockWriter> =>
  Layer.succeed(BlockWriter, simBlockWriter(disks, options))
