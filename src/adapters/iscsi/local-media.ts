// Local preparation for a deploy, done before any byte goes to the disk: what the image is, a
// private scratch directory, and the ephemeral filesystem built in a sparse file.
import { mkdtemp, open, readdir, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { detectImage, IMAGE_HEADER_BYTES, PAGE_SIZE } from "./disk-format.ts"
import { DiskFault, type BuiltFilesystem, type ByteRange, type SourceImage } from "./disk-access.ts"
import { runCommand } from "./process.ts"

const fault = (reason: string) => new DiskFault({ reason })
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error))

export const inspectImage = (path: string): Effect.Effect<SourceImage, DiskFault> =>
  Effect.gen(function* () {
    const { header, size } = yield* Effect.tryPromise({
      try: async () => {
        const file = await open(path, "r")
        try {
          const header = new Uint8Array(IMAGE_HEADER_BYTES)
          const { bytesRead } = await file.read(header, 0, header.length, 0)
          const stat = await file.stat()
          if (!stat.isFile()) throw new Error("not a regular file")
          return { header: header.subarray(0, bytesRead), size: stat.size }
        } finally {
          await file.close()
        }
      },
      catch: (error) => fault(`cannot read the image ${path}: ${errorText(error)}`),
    })
    const detected = detectImage(header, size)
    if (!detected.ok) return yield* Effect.fail(fault(`${path}: ${detected.problem}`))
    return { path, format: detected.format, virtualSizeBytes: detected.virtualSizeBytes }
  })

const SCRATCH_PREFIX = "ironledger-disk-"
const swept = new Set<string>()

const processAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * Removes the scratch directories of processes that died before their finalizers ran (SIGKILL):
 * they may hold a CHAP secret file. Once per parent directory and process.
 */
const sweepDeadScratch = async (parent: string) => {
  if (swept.has(parent)) return
  swept.add(parent)
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const pid = new RegExp(`^${SCRATCH_PREFIX}(\\d+)-`).exec(name)?.[1]
    if (pid && Number(pid) !== process.pid && !processAlive(Number(pid))) await rm(join(parent, name), { recursive: true, force: true })
  }
}

/** A 0700 directory for one operation's files (secret, small buffers, the ephemeral image), removed after. */
export const withScratchDir = <A, E>(parent: string | undefined, use: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.tryPromise({
      try: async () => {
        const base = parent ?? tmpdir()
        await sweepDeadScratch(base)
        return mkdtemp(join(base, `${SCRATCH_PREFIX}${process.pid}-`))
      },
      catch: (error) => fault(`cannot create a scratch directory: ${errorText(error)}`),
    }),
    use,
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
  )

const coalesce = (ranges: ReadonlyArray<ByteRange>): ByteRange[] => {
  const out: ByteRange[] = []
  for (const r of ranges) {
    const last = out[out.length - 1]
    if (last && last.offset + last.length === r.offset) out[out.length - 1] = { offset: last.offset, length: last.length + r.length }
    else out.push(r)
  }
  return out
}

interface MapEntry { readonly start: number; readonly length: number; readonly data: boolean }

/** The allocated ranges of a local raw file, from `qemu-img map` (Node has no SEEK_DATA). */
const dataExtents = (path: string) =>
  runCommand("qemu-img", ["map", "--output=json", "-f", "raw", path], { timeoutMs: 60_000 }).pipe(
    Effect.mapError((e) => fault(`mapping ${path}: ${e.reason}`)),
    Effect.flatMap((out) =>
      Effect.try({
        try: () => coalesce((JSON.parse(out.stdout) as MapEntry[]).filter((e) => e.data).map((e) => ({ offset: e.start, length: e.length }))),
        catch: () => fault(`qemu-img map printed something that is not its JSON map`),
      })),
  )

const ZERO_PAGE = Buffer.alloc(PAGE_SIZE)
const SCAN_CHUNK = 4 * 1024 * 1024

/** The all-zero pages inside `extents`: what mkfs zeroed on purpose. */
const zeroPages = (path: string, extents: ReadonlyArray<ByteRange>) =>
  Effect.tryPromise({
    try: async () => {
      const file = await open(path, "r")
      const zeros: ByteRange[] = []
      try {
        const buffer = Buffer.alloc(SCAN_CHUNK)
        for (const extent of extents) {
          for (let at = extent.offset; at < extent.offset + extent.length; at += SCAN_CHUNK) {
            const length = Math.min(SCAN_CHUNK, extent.offset + extent.length - at)
            await file.read(buffer, 0, length, at)
            for (let page = 0; page < length; page += PAGE_SIZE) {
              const end = Math.min(page + PAGE_SIZE, length)
              if (buffer.subarray(page, end).equals(ZERO_PAGE.subarray(0, end - page))) zeros.push({ offset: at + page, length: end - page })
            }
          }
        }
      } finally {
        await file.close()
      }
      return coalesce(zeros)
    },
    catch: (error) => fault(`scanning ${path}: ${errorText(error)}`),
  })

/**
 * An ext4 filesystem of `sizeBytes` in a sparse file, as mkfs.ext4 would write it on the partition:
 * inode tables initialised lazily by the kernel (as on any big disk), the journal zeroed for real.
 * UNIX_IO_NOZEROOUT makes mke2fs write its zeros as data instead of punching holes, so the zeros it
 * means (journal, old signatures it wipes) are told apart from ranges it never touched.
 */
export const buildExt4 = (dir: string, sizeBytes: number, label: string): Effect.Effect<BuiltFilesystem, DiskFault> =>
  Effect.gen(function* () {
    const path = join(dir, `${label}.ext4`)
    yield* Effect.tryPromise({
      try: async () => {
        const file = await open(path, "wx", 0o600)
        try { await file.truncate(sizeBytes) } finally { await file.close() }
      },
      catch: (error) => fault(`cannot create ${path}: ${errorText(error)}`),
    })
    yield* runCommand("mkfs.ext4", ["-q", "-F", "-L", label, "-E", "lazy_itable_init=1,lazy_journal_init=0,nodiscard", path], {
      timeoutMs: 600_000,
      env: { UNIX_IO_NOZEROOUT: "1" },
    }).pipe(Effect.mapError((e) => fault(`building the ${label} filesystem: ${e.reason}`)))
    const extents = yield* dataExtents(path)
    const zeroRanges = yield* zeroPages(path, extents)
    return { path, sizeBytes, dataExtents: extents, zeroRanges }
  })
