// Checksum verification before every use, with a memory of files already verified.
//
// Trade-off: rehashing a multi-GiB image before each deploy costs a full read (seconds to minutes),
// so a verified file is remembered by its stamps (size, device, inode, mtime, ctime) and only
// rehashed when one of them moved. Any write or replacement through the filesystem moves mtime,
// ctime or the inode, and ctime cannot be set back from userspace (utimes resets mtime but bumps
// ctime), so a changed file is always rehashed. What is NOT seen: damage beneath the filesystem
// (bit rot, a bad sector) that leaves the stamps alone, until the process restarts (this memory is
// not persisted) or the file changes. Import and conversion always hash in full.
//
// Racy stamps: timestamps are coarse (a clock tick; seconds on some filesystems), so a write in the
// same tick as the verified state would leave them equal. A file changed within `racyWindowMs` of
// the start of hashing is therefore not remembered (the rule git uses for its index).
import type { BigIntStats } from "node:fs"
import { stat } from "node:fs/promises"
import { hashFile } from "./content-hash.ts"

interface Stamp {
  readonly size: bigint
  readonly dev: bigint
  readonly ino: bigint
  readonly mtimeNs: bigint
  readonly ctimeNs: bigint
}

const stampOf = (s: BigIntStats): Stamp => ({ size: s.size, dev: s.dev, ino: s.ino, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs })
const sameStamp = (a: Stamp, b: Stamp) =>
  a.size === b.size && a.dev === b.dev && a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs

export interface VerificationCache {
  /** null when the file hashes to `expected`, else its actual sha256. Rejects ENOENT if missing. */
  readonly mismatch: (path: string, expected: string) => Promise<string | null>
  readonly forget: (path: string) => void
}

export const makeVerificationCache = (options: {
  readonly racyWindowMs: number
  readonly onFullHash?: ((path: string) => void) | undefined
}): VerificationCache => {
  const verified = new Map<string, Stamp>()
  return {
    forget: (path) => void verified.delete(path),
    mismatch: async (path, expected) => {
      const before = stampOf(await stat(path, { bigint: true }))
      const known = verified.get(path)
      if (known !== undefined && sameStamp(known, before)) return null
      verified.delete(path)
      const startedMs = BigInt(Date.now())
      options.onFullHash?.(path)
      const actual = await hashFile(path)
      if (actual !== expected) return actual
      const after = stampOf(await stat(path, { bigint: true }))
      const settled = after.ctimeNs / 1_000_000n < startedMs - BigInt(options.racyWindowMs)
      if (sameStamp(before, after) && settled) verified.set(path, after)
      return null
    },
  }
}
