// Filesystem ImageStore: images stored by content address under ROOT, verified before every use.
//   ROOT/images/<sha256>       the image as imported     ROOT/images/<sha256>.json  format, sizes
//   ROOT/raw/<sha256>          its raw conversion        ROOT/raw/<sha256>.json     the raw's sha256
//   ROOT/tmp/                  imports and conversions in progress (renamed into place when whole)
import { randomUUID } from "node:crypto"
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import {
  ImageCorrupt, ImageImportFailed, ImageNotFound, ImageStore,
  type ImageError, type ImageFormat, type ImageInfo,
} from "../../ports/image-store.ts"
import { copyHashing, hashFile, SHA256_HEX } from "./content-hash.ts"
import { convertToRaw, describeImage } from "./qemu-img.ts"
import { makeSingleFlight } from "./single-flight.ts"
import { makeVerificationCache } from "./verification-cache.ts"

export interface FsImageStoreConfig {
  readonly root: string
  /** The qemu-img program; default "qemu-img" from PATH. */
  readonly qemuImg?: string
  /** See verification-cache.ts; default 2000 ms, wide enough for filesystems with 1 s stamps. */
  readonly racyWindowMs?: number
  /** Called before each full checksum read of a stored file (for metrics and tests). */
  readonly onFullHash?: (path: string) => void
}

type Meta = { readonly format: ImageFormat; readonly sizeBytes: number; readonly virtualSizeBytes: number }

const isImageError = (e: unknown): e is ImageError =>
  e instanceof ImageNotFound || e instanceof ImageCorrupt || e instanceof ImageImportFailed
const isMissing = (e: unknown) => (e as NodeJS.ErrnoException | null)?.code === "ENOENT"

// Our own errors go to the error channel; anything else (EACCES, EIO, a full disk) is a defect.
const lift = <A>(run: () => Promise<A>): Effect.Effect<A, ImageError> =>
  Effect.tryPromise({ try: run, catch: (e) => { if (isImageError(e)) return e; throw e } })

const readJson = async (path: string): Promise<Record<string, unknown> | null> => {
  try { return JSON.parse(await readFile(path, "utf8")) } catch { return null }
}

export const makeFsImageStore = async (config: FsImageStoreConfig): Promise<ImageStore["Service"]> => {
  const qemuImg = config.qemuImg ?? "qemu-img"
  const dirs = { images: join(config.root, "images"), raw: join(config.root, "raw"), tmp: join(config.root, "tmp") }
  await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })))
  const imagePath = (id: string) => join(dirs.images, id)
  const rawPath = (id: string) => join(dirs.raw, id)
  const tmpPath = () => join(dirs.tmp, randomUUID())
  const flights = makeSingleFlight()
  const verifier = makeVerificationCache({ racyWindowMs: config.racyWindowMs ?? 2000, onFullHash: config.onFullHash })

  const writeJsonAtomic = async (path: string, value: unknown) => {
    const tmp = tmpPath()
    try { await writeFile(tmp, JSON.stringify(value), { flush: true }); await rename(tmp, path) }
    finally { await rm(tmp, { force: true }) }
  }

  const checkId = (id: string) => { if (!SHA256_HEX.test(id)) throw new ImageNotFound({ id }) }

  /** Concurrent verifications of one file share a single read. */
  const verify = (path: string, sha256: string) => flights.run(`verify:${path}`, () => verifier.mismatch(path, sha256))

  const verifiedImagePath = async (id: string): Promise<string> => {
    checkId(id)
    const path = imagePath(id)
    const actual = await verify(path, id).catch((e) => { throw isMissing(e) ? new ImageNotFound({ id }) : e })
    if (actual !== null) throw new ImageCorrupt({ id, actual })
    return path
  }

  const isStoredIntact = (id: string) => verifiedImagePath(id).then(() => true, (e) => isImageError(e) ? false : Promise.reject(e))

  const importFile = async (source: string, expectedSha256?: string): Promise<ImageInfo> => {
    const expected = expectedSha256?.toLowerCase()
    if (expected !== undefined && !SHA256_HEX.test(expected))
      throw new ImageImportFailed({ source, reason: `expected sha256 "${expectedSha256}" is not 64 hex digits` })
    const tmp = tmpPath()
    try {
      const { sha256: id, size } = await copyHashing(source, tmp)
        .catch((e: Error) => { throw new ImageImportFailed({ source, reason: e.message }) })
      if (expected !== undefined && expected !== id)
        throw new ImageImportFailed({ source, reason: `content hashes to ${id}, expected ${expected}` })
      if (size === 0) throw new ImageImportFailed({ source, reason: "the file is empty" })
      const described = await describeImage(qemuImg, tmp)
      if (!described.ok) throw new ImageImportFailed({ source, reason: described.reason })
      const meta: Meta = { format: described.format, sizeBytes: size, virtualSizeBytes: described.virtualSizeBytes }
      // Idempotent: an intact stored copy stays; a damaged one is replaced by this fresh copy.
      if (!(await isStoredIntact(id))) {
        await writeJsonAtomic(`${imagePath(id)}.json`, meta)
        await rename(tmp, imagePath(id))
        verifier.forget(imagePath(id))
      }
      return { id, ...meta }
    } finally {
      await rm(tmp, { force: true })
    }
  }

  const info = async (id: string): Promise<ImageInfo> => {
    checkId(id)
    const size = await stat(imagePath(id)).then((s) => s.size, (e) => { throw isMissing(e) ? new ImageNotFound({ id }) : e })
    const meta = await readJson(`${imagePath(id)}.json`)
    if (meta !== null && (meta["format"] === "raw" || meta["format"] === "qcow2") && typeof meta["virtualSizeBytes"] === "number")
      return { id, format: meta["format"], sizeBytes: size, virtualSizeBytes: meta["virtualSizeBytes"] }
    // Lost metadata (a crash between the two renames, a hand edit) is derived again from the content.
    const described = await describeImage(qemuImg, imagePath(id))
    if (!described.ok) throw new ImageImportFailed({ source: imagePath(id), reason: described.reason })
    const fresh: Meta = { format: described.format, sizeBytes: size, virtualSizeBytes: described.virtualSizeBytes }
    await writeJsonAtomic(`${imagePath(id)}.json`, fresh)
    return { id, ...fresh }
  }

  /** The raw conversion of a verified qcow2 source, reused while it verifies, redone when not. */
  const ensureRaw = async (id: string, source: string): Promise<string> => {
    const target = rawPath(id)
    const recorded = (await readJson(`${target}.json`))?.["sha256"]
    if (typeof recorded === "string") {
      const actual = await verifier.mismatch(target, recorded).catch((e) => { if (isMissing(e)) return "missing"; throw e })
      if (actual === null) return target
    }
    const tmp = tmpPath()
    try {
      await convertToRaw(qemuImg, source, tmp)
        .catch((e: Error) => { throw new ImageImportFailed({ source: `raw conversion of ${id}`, reason: e.message }) })
      await writeJsonAtomic(`${target}.json`, { sha256: await hashFile(tmp) })
      await rename(tmp, target)
      verifier.forget(target)
      return target
    } finally {
      await rm(tmp, { force: true })
    }
  }

  // One flight per id covers verification and conversion, so N deploys asking at once convert once
  // and collect() sees the image as in use from the first check on.
  const rawPathOf = (id: string): Promise<string> =>
    flights.run(`raw:${id}`, async () => {
      const source = await verifiedImagePath(id)
      return (await info(id)).format === "raw" ? source : ensureRaw(id, source)
    })

  /** Removes a file and its sidecar (sidecar first, so no metadata outlives its file); true if the file was there. */
  const removeEntry = async (path: string): Promise<boolean> => {
    await rm(`${path}.json`, { force: true })
    verifier.forget(path)
    return rm(path).then(() => true, (e) => isMissing(e) ? false : Promise.reject(e))
  }

  const collect = async (keep: ReadonlySet<string>): Promise<number> => {
    const names = [...await readdir(dirs.images), ...await readdir(dirs.raw)]
    const ids = new Set(names.map((n) => n.replace(/\.json$/, "")).filter((n) => SHA256_HEX.test(n)))
    let removed = 0
    for (const id of ids) {
      if (keep.has(id) || flights.busy(`raw:${id}`)) continue // a running conversion still reads the image
      if (await removeEntry(rawPath(id))) removed++
      if (await removeEntry(imagePath(id))) removed++
    }
    return removed
  }

  return {
    importFile: (path, expectedSha256) => lift(() => importFile(path, expectedSha256)),
    info: (id) => lift(() => info(id)),
    pathOf: (id) => lift(() => verifiedImagePath(id)),
    rawPathOf: (id) => lift(() => rawPathOf(id)),
    collect: (keep) => lift(() => collect(keep)),
  }
}

export const FsImageStore = (config: FsImageStoreConfig): Layer.Layer<ImageStore> =>
  Layer.effect(ImageStore, Effect.promise(() => makeFsImageStore(config)))
