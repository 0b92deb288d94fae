// The shared libraries an ELF64 little-endian file asks for (its DT_NEEDED entries), read from
// the file itself so that the build never runs the binaries it packs.
import { readFile } from "node:fs/promises"
import { BuildFailed } from "./run.ts"

const SHT_DYNAMIC = 6
const DT_NULL = 0n
const DT_NEEDED = 1n

export const neededLibraries = async (path: string): Promise<ReadonlyArray<string>> => {
  const b = await readFile(path)
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) throw new BuildFailed(`${path} is not an ELF file`)
  if (b[4] !== 2 || b[5] !== 1) throw new BuildFailed(`${path} is not a 64-bit little-endian ELF file`)
  const shoff = Number(b.readBigUInt64LE(0x28))
  const shentsize = b.readUInt16LE(0x3a)
  const shnum = b.readUInt16LE(0x3c)
  const section = (i: number) => {
    const at = shoff + i * shentsize
    return { type: b.readUInt32LE(at + 4), offset: Number(b.readBigUInt64LE(at + 0x18)), size: Number(b.readBigUInt64LE(at + 0x20)), link: b.readUInt32LE(at + 0x28) }
  }
  const needed: string[] = []
  for (let i = 0; i < shnum; i++) {
    const dynamic = section(i)
    if (dynamic.type !== SHT_DYNAMIC) continue
    const strtab = section(dynamic.link)
    for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size; at += 16) {
      const tag = b.readBigUInt64LE(at)
      if (tag === DT_NULL) break
      if (tag !== DT_NEEDED) continue
      const start = strtab.offset + Number(b.readBigUInt64LE(at + 8))
      needed.push(b.toString("latin1", start, b.indexOf(0, start)))
    }
  }
  return needed
}

/** The `key=value` strings of a kernel module's .modinfo section (e.g. depends, softdep). */
export const moduleInfo = async (path: string): Promise<ReadonlyArray<readonly [string, string]>> => {
  const b = await readFile(path)
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) throw new BuildFailed(`${path} is not a 64-bit ELF module (compressed modules are not read)`)
  const shoff = Number(b.readBigUInt64LE(0x28))
  const shentsize = b.readUInt16LE(0x3a)
  const shnum = b.readUInt16LE(0x3c)
  const section = (i: number) => {
    const at = shoff + i * shentsize
    return { name: b.readUInt32LE(at), offset: Number(b.readBigUInt64LE(at + 0x18)), size: Number(b.readBigUInt64LE(at + 0x20)) }
  }
  const names = section(b.readUInt16LE(0x3e))
  for (let i = 0; i < shnum; i++) {
    const s = section(i)
    const start = names.offset + s.name
    if (b.toString("latin1", start, b.indexOf(0, start)) !== ".modinfo") continue
    return b.toString("latin1", s.offset, s.offset + s.size).split("\0").filter((kv) => kv.includes("="))
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)] as const)
  }
  return []
}
