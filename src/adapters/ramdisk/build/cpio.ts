// A gzip'd cpio "newc" archive of a directory tree, as the kernel unpacks an initramfs, written
// so that the same tree always gives the same bytes: entries sorted by path, every mtime 0, owner
// root, inode numbers by position, no device numbers, gzip without a name or time stamp.
import { lstat, readdir, readFile, readlink } from "node:fs/promises"
import { join } from "node:path"
import { gzipSync } from "node:zlib"

const hex8 = (n: number) => n.toString(16).padStart(8, "0")
const pad4 = (n: number) => (4 - (n % 4)) % 4

const walk = async (root: string, rel = ""): Promise<string[]> => {
  const out: string[] = []
  for (const name of (await readdir(join(root, rel))).sort()) {
    const path = rel === "" ? name : `${rel}/${name}`
    out.push(path)
    if ((await lstat(join(root, path))).isDirectory()) out.push(...await walk(root, path))
  }
  return out
}

const entry = (name: string, ino: number, mode: number, nlink: number, data: Buffer) => {
  const nameBytes = Buffer.from(name + "\0", "latin1")
  const header = "070701" + [ino, mode, 0, 0, nlink, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0].map(hex8).join("")
  const head = Buffer.concat([Buffer.from(header, "latin1"), nameBytes])
  return [head, Buffer.alloc(pad4(head.length)), data, Buffer.alloc(pad4(data.length))]
}

/** The archive's bytes (before gzip) for the tree under `root`. */
export const cpioOf = async (root: string): Promise<Buffer> => {
  const parts: Buffer[] = []
  let ino = 1
  for (const path of (await walk(root)).sort()) {
    const s = await lstat(join(root, path))
    // Keep permission bits; the owner is always root.
    const perm = s.mode & 0o7777
    if (s.isDirectory()) parts.push(...entry(path, ino++, 0o040000 | perm, 2, Buffer.alloc(0)))
    else if (s.isSymbolicLink()) parts.push(...entry(path, ino++, 0o120000 | 0o777, 1, Buffer.from(await readlink(join(root, path)), "latin1")))
    else if (s.isFile()) parts.push(...entry(path, ino++, 0o100000 | perm, 1, await readFile(join(root, path))))
    else throw new Error(`${path}: only directories, files and symbolic links go into an initramfs`)
  }
  parts.push(...entry("TRAILER!!!", 0, 0, 1, Buffer.alloc(0)))
  return Buffer.concat(parts)
}

/** gzip level 9; Node writes no file name and a zero time stamp, so the bytes depend on content only. */
export const gzipInitramfs = (cpio: Buffer): Buffer => gzipSync(cpio, { level: 9 })
