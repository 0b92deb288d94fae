// Test images and disk inspection for the BlockWriter contract, all made and read with the real
// tools (mkfs.ext4, qemu-img, sfdisk, blkid, e2fsck): a written disk is judged from outside the writer.
import { execFileSync, spawnSync } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { createReadStream, mkdirSync, openSync, closeSync, writeSync, ftruncateSync, statSync, copyFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { MiB } from "../../src/domain/partition.ts"
import { readAt } from "../../src/adapters/sim/machine/disk.ts"

export const sh = (program: string, args: ReadonlyArray<string>, input?: string): string =>
  execFileSync(program, [...args], { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"], timeout: 60_000 })

export const sparseFile = (path: string, sizeBytes: number) => {
  const fd = openSync(path, "wx", 0o600)
  try { ftruncateSync(fd, sizeBytes) } finally { closeSync(fd) }
}

/** A byte range of a file, as the tests compare them. */
export const readRange = readAt

export const writeRange = (path: string, offset: number, bytes: Uint8Array) => {
  const fd = openSync(path, "r+")
  try { writeSync(fd, bytes, 0, bytes.length, offset) } finally { closeSync(fd) }
}

/** Fills a range with one byte value, as old data left on a reused disk. */
export const fillRange = (path: string, offset: number, length: number, value: number) => {
  const chunk = Buffer.alloc(Math.min(length, 8 * MiB), value)
  const fd = openSync(path, "r+")
  try {
    for (let at = 0; at < length; at += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, length - at), offset + at)
  } finally {
    closeSync(fd)
  }
}

export const sha256Range = (path: string, offset: number, length: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const hash = createHash("sha256")
    createReadStream(path, { start: offset, end: offset + length - 1, highWaterMark: 4 * MiB })
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")))
  })

export const sha256File = (path: string) => sha256Range(path, 0, statSync(path).size)

/**
 * A digest of a range of a sparse file that reads only its allocated parts: which extents hold data,
 * and their bytes. Equal digests mean equal content (a write into a hole allocates a new extent),
 * without reading a GiB of holes.
 */
export const allocatedDigest = async (path: string, offset: number, length: number): Promise<string> => {
  const map = JSON.parse(sh("qemu-img", [
    "map", "-U", "--output=json", "--image-opts", `driver=raw,offset=${offset},size=${length},file.driver=file,file.filename=${path}`,
  ])) as Array<{ start: number; length: number; data: boolean }>
  const hash = createHash("sha256")
  for (const extent of map.filter((e) => e.data)) {
    hash.update(`${extent.start}+${extent.length}:`)
    hash.update(await sha256Range(path, offset + extent.start, extent.length))
  }
  return hash.digest("hex")
}

/** Where mkfs.ext4 puts the journal of a filesystem of `sizeBytes` (block range, in bytes). */
export const journalExtent = (fsImage: string): { offset: number; length: number } => {
  const m = /\((\d+)-(\d+)\):(\d+)-(\d+)/.exec(sh("debugfs", ["-R", "stat <8>", fsImage]))
  if (!m) throw new Error(`no journal extent in ${fsImage}`)
  return { offset: Number(m[3]) * 4096, length: (Number(m[4]) - Number(m[3]) + 1) * 4096 }
}

/** The content of an image as raw bytes (qemu-img decodes qcow2). */
export const rawCopy = (image: string, out: string) => sh("qemu-img", ["convert", "-O", "raw", image, out])

/** One value from blkid's low-level probe, optionally of a range of the file. */
export const blkid = (path: string, tag: string, range?: { offset: number; length: number }): string => {
  const args = ["-p", "-o", "value", "-s", tag, ...(range ? ["-O", String(range.offset), "-S", String(range.length)] : []), path]
  const run = spawnSync("blkid", args, { encoding: "utf8", timeout: 30_000 })
  return run.stdout.trim()
}

export interface SfdiskTable {
  readonly label: string
  readonly id: string
  readonly partitions: ReadonlyArray<{ readonly start: number; readonly size: number; readonly type: string }>
}

export const sfdisk = (path: string): SfdiskTable =>
  (JSON.parse(sh("sfdisk", ["--json", path])) as { partitiontable: SfdiskTable }).partitiontable

/** Copies a range of a disk file into a file of its own (sparse), for e2fsck and debugfs. */
export const extract = (disk: string, offset: number, length: number, out: string) =>
  sh("qemu-img", ["convert", "-U", "--image-opts", `driver=raw,offset=${offset},size=${length},file.driver=file,file.filename=${disk}`, "-O", "raw", out])

export interface TestImages {
  /** 48 MiB ext4 with random files. */
  readonly rootA: string
  readonly rootAUuid: string
  readonly rootAQcow2: string
  /** rootA as qcow2, named .raw. */
  readonly qcow2NamedRaw: string
  /** 40 MiB ext4 (another UUID) as qcow2. */
  readonly rootBQcow2: string
  readonly rootBRaw: string
  readonly rootBUuid: string
  /** Sparse raw of 1 GiB + 1 MiB, and a qcow2 of 2 GiB virtual: both larger than a 1 GiB root. */
  readonly tooBigRaw: string
  readonly tooBigQcow2: string
  /** A qcow2 overlay naming rootA as its backing file. */
  readonly backedQcow2: string
  readonly vmdk: string
  /** Whole-disk images of 64 MiB with an MBR and with a GPT table. */
  readonly wholeMbr: string
  readonly wholeGpt: string
}

const ext4WithFiles = (dir: string, name: string, sizeMiB: number) => {
  const content = join(dir, `${name}-content`)
  mkdirSync(join(content, "etc"), { recursive: true })
  writeFileSync(join(content, "etc", "hostname"), `${name}\n`)
  writeFileSync(join(content, "payload.bin"), randomBytes(6 * MiB))
  const image = join(dir, `${name}.raw`)
  sparseFile(image, sizeMiB * MiB)
  sh("mkfs.ext4", ["-q", "-L", name, "-d", content, image])
  return image
}

const wholeDisk = (dir: string, name: string, label: "dos" | "gpt") => {
  const image = join(dir, name)
  sparseFile(image, 64 * MiB)
  sh("sfdisk", ["-q", image], `label: ${label}\n,,L\n`)
  writeRange(image, 2 * MiB, randomBytes(MiB))
  return image
}

export const makeTestImages = (dir: string): TestImages => {
  const rootA = ext4WithFiles(dir, "rootA", 48)
  const rootAQcow2 = join(dir, "rootA.qcow2")
  sh("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", rootA, rootAQcow2])
  const qcow2NamedRaw = join(dir, "actually-qcow2.raw")
  copyFileSync(rootAQcow2, qcow2NamedRaw)
  const rootBRaw = ext4WithFiles(dir, "rootB", 40)
  const rootBQcow2 = join(dir, "rootB.qcow2")
  sh("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", rootBRaw, rootBQcow2])
  const tooBigRaw = join(dir, "too-big.raw")
  sparseFile(tooBigRaw, 1024 * MiB + MiB)
  const tooBigQcow2 = join(dir, "too-big.qcow2")
  sh("qemu-img", ["create", "-q", "-f", "qcow2", tooBigQcow2, "2G"])
  const backedQcow2 = join(dir, "backed.qcow2")
  sh("qemu-img", ["create", "-q", "-f", "qcow2", "-b", rootA, "-F", "raw", backedQcow2])
  const vmdk = join(dir, "disk.vmdk")
  sh("qemu-img", ["create", "-q", "-f", "vmdk", vmdk, "64M"])
  return {
    rootA, rootAUuid: blkid(rootA, "UUID"), rootAQcow2, qcow2NamedRaw, rootBQcow2, rootBRaw, rootBUuid: blkid(rootBRaw, "UUID"),
    tooBigRaw, tooBigQcow2, backedQcow2, vmdk,
    wholeMbr: wholeDisk(dir, "whole-mbr.img", "dos"), wholeGpt: wholeDisk(dir, "whole-gpt.img", "gpt"),
  }
}
