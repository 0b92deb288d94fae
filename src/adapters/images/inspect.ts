// Inspection of an image before anything is written or powered on: qemu-img probes the format
// once, then every further question is asked with that format pinned (`-f`), and the image is
// refused unless it is a plain raw or qcow2 file that fits its target. A qcow2 naming a backing
// file or an external data file (possibly as a `json:` name) would make qemu-img read another
// host file into the node's disk; a raw "image" that is not whole sectors is not a disk.
import { execFile } from "node:child_process"
import { open, stat } from "node:fs/promises"
import { isAbsolute } from "node:path"
import * as E from "fp-ts/lib/Either.js"
import type { ImageFormat } from "../../ports/image-store.ts"

export interface ImageExpectations {
  /** Default ["raw", "qcow2"]. */
  readonly allowedFormats?: ReadonlyArray<ImageFormat>
  /** The format the user declared (e.g. instance_info.image_disk_format): the content must agree. */
  readonly declaredFormat?: ImageFormat
  /** Bytes of the root partition (partition image) or of the disk (whole-disk image). */
  readonly maxVirtualBytes?: number
  /** For raw images, what the first sectors must look like. */
  readonly kind?: "whole-disk" | "partition"
  readonly qemuImg?: string
}

export interface InspectedImage {
  readonly format: ImageFormat
  readonly virtualSizeBytes: number
  readonly fileBytes: number
}

const info = (qemuImg: string, args: ReadonlyArray<string>) => new Promise<Record<string, unknown>>((resolve, reject) => {
  execFile(qemuImg, ["info", "--output=json", ...args], { timeout: 60_000, maxBuffer: 1 << 20, env: { ...process.env, LC_ALL: "C" } },
    (error, stdout, stderr) => {
      if (error !== null) return reject(new Error(stderr.trim() || error.message))
      try { resolve(JSON.parse(stdout)) } catch { reject(new Error("qemu-img info printed no JSON")) }
    })
})

const readHead = async (path: string, bytes: number) => {
  const file = await open(path, "r")
  try {
    const buffer = Buffer.alloc(bytes)
    const { bytesRead } = await file.read(buffer, 0, bytes, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await file.close()
  }
}

/** ext2/3/4 (magic at 1080), XFS, btrfs (magic at 64 KiB + 64 is past the head: not checked), swap-less FAT. */
const hasFilesystem = (head: Buffer) =>
  (head.length >= 1082 && head.readUInt16LE(1080) === 0xef53) ||
  head.subarray(0, 4).toString("latin1") === "XFSB" ||
  (head.length >= 512 && head.readUInt16LE(510) === 0xaa55 && /FAT|EXFAT|NTFS/.test(head.subarray(3, 90).toString("latin1")))

const hasPartitionTable = (head: Buffer) => head.length >= 512 && head.readUInt16LE(510) === 0xaa55

export const inspectImage = async (path: string, expect: ImageExpectations = {}): Promise<E.Either<string, InspectedImage>> => {
  const qemuImg = expect.qemuImg ?? "qemu-img"
  // qemu-img reads "json:{...}" as options, not as a file name; an absolute path never starts so.
  if (!isAbsolute(path) || /[\n\r]/.test(path)) return E.left(`image path ${JSON.stringify(path)} must be absolute`)
  const st = await stat(path).catch(() => null)
  if (st === null || !st.isFile()) return E.left(`${path} is not a file`)
  if (st.size === 0) return E.left(`${path} is empty`)
  let probed: Record<string, unknown>
  try { probed = await info(qemuImg, [path]) } catch (e) { return E.left(`not a readable image: ${(e as Error).message}`) }
  const format = String(probed["format"])
  const allowed = expect.allowedFormats ?? ["raw", "qcow2"]
  if (!(allowed as ReadonlyArray<string>).includes(format)) return E.left(`format ${format} is not allowed (allowed: ${allowed.join(", ")})`)
  if (expect.declaredFormat !== undefined && expect.declaredFormat !== format)
    return E.left(`the image is declared ${expect.declaredFormat} but its content is ${format}`)
  let pinned: Record<string, unknown>
  try { pinned = await info(qemuImg, ["-f", format, path]) } catch (e) { return E.left(`qemu-img info -f ${format}: ${(e as Error).message}`) }
  for (const key of ["backing-filename", "full-backing-filename", "backing-filename-format"])
    if (pinned[key] !== undefined) return E.left(`a ${format} image with a backing file (${String(pinned[key]).slice(0, 80)}) is refused`)
  const data = (pinned["format-specific"] as { data?: Record<string, unknown> } | undefined)?.data
  if (data?.["data-file"] !== undefined) return E.left(`a ${format} image with an external data file is refused`)
  if (pinned["encrypted"] === true) return E.left("encrypted images are refused")
  if (String(pinned["filename"] ?? "").startsWith("json:")) return E.left("json: image names are refused")
  const virtualSizeBytes = pinned["virtual-size"]
  if (typeof virtualSizeBytes !== "number" || virtualSizeBytes <= 0) return E.left("qemu-img reports no virtual size")
  if (format === "raw") {
    if (st.size % 512 !== 0) return E.left(`a raw image is whole 512-byte sectors; this one is ${st.size} bytes`)
    if (expect.kind !== undefined) {
      const head = await readHead(path, 4096)
      if (expect.kind === "whole-disk" && !hasPartitionTable(head))
        return E.left("a whole-disk image starts with a partition table (MBR or protective MBR); this one does not")
      if (expect.kind === "partition" && !hasFilesystem(head))
        return E.left("a partition image holds a filesystem (ext2/3/4, XFS or FAT); none was found")
    }
  }
  if (expect.maxVirtualBytes !== undefined && virtualSizeBytes > expect.maxVirtualBytes)
    return E.left(`the image's virtual size (${virtualSizeBytes} bytes) does not fit its target (${expect.maxVirtualBytes} bytes)`)
  return E.right({ format: format as ImageFormat, virtualSizeBytes, fileBytes: st.size })
}
