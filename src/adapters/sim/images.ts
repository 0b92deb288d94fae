// In-memory ImageStore for the application's tests and the fake-hardware demo. Real sha256, real
// format rules (qcow2 decoded in memory by ./qcow2.ts), no disk and no qemu-img. Paths it hands
// out are names ("sim-image:images/<id>"); `bytesAt` reads what is behind them.
import { createHash } from "node:crypto"
import { readFile } from "node:fs/promises"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import {
  ImageCorrupt, ImageImportFailed, ImageNotFound, ImageStore,
  type ImageError, type ImageFormat, type ImageInfo,
} from "../../ports/image-store.ts"
import { makeSingleFlight } from "../images/single-flight.ts"
import { QCOW2_MAGIC, qcow2ToRaw, readQcow2Header } from "./qcow2.ts"

const SHA256_HEX = /^[0-9a-f]{64}$/
/** Images live in memory here: past this, use the filesystem store. */
const MAX_BYTES = 1 << 30

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

// Magic numbers of formats qemu-img would recognise but we do not deploy.
const FOREIGN: ReadonlyArray<readonly [string, (b: Buffer) => boolean]> = [
  ["vmdk", (b) => b.subarray(0, 4).toString("latin1") === "KDMV" || b.subarray(0, 21).toString("latin1") === "# Disk DescriptorFile"],
  ["vhdx", (b) => b.subarray(0, 8).toString("latin1") === "vhdxfile"],
  ["vpc", (b) => b.subarray(0, 8).toString("latin1") === "conectix"],
  ["qed", (b) => b.subarray(0, 4).toString("latin1") === "QED\0"],
  ["luks", (b) => b.subarray(0, 6).equals(Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]))],
  ["vdi", (b) => b.length >= 68 && b.readUInt32LE(64) === 0xbeda107f],
]

type Described = { format: ImageFormat; virtualSizeBytes: number } | string

const describe = (bytes: Uint8Array): Described => {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (b.length >= 4 && b.readUInt32BE(0) === QCOW2_MAGIC) {
    const header = readQcow2Header(bytes)
    if (typeof header === "string") return header
    if (header.virtualSize > MAX_BYTES) return `virtual size ${header.virtualSize} is over the simulator's ${MAX_BYTES}`
    return { format: "qcow2", virtualSizeBytes: header.virtualSize }
  }
  const foreign = FOREIGN.find(([, matches]) => matches(b))
  if (foreign !== undefined) return `format ${foreign[0]} is not supported (only raw and qcow2; convert it first)`
  // As qemu-img reports raw images: a whole number of 512-byte sectors.
  return { format: "raw", virtualSizeBytes: Math.ceil(b.length / 512) * 512 }
}

interface Stored { readonly bytes: Uint8Array; readonly info: ImageInfo }

export interface SimImages {
  readonly store: ImageStore["Service"]
  /** Imports bytes given directly (named `source` in errors). */
  readonly importBytes: (bytes: Uint8Array, expectedSha256?: string, source?: string) => Effect.Effect<ImageInfo, ImageError>
  /** The bytes behind a path this store handed out. */
  readonly bytesAt: (path: string) => Uint8Array | undefined
  /** Flips one byte of a stored image, as bit rot would. */
  readonly corrupt: (id: string) => void
  /** How many raw conversions have started. */
  readonly conversions: () => number
  /** Stored entries: "images/<id>" and "raw/<id>". */
  readonly entries: () => ReadonlyArray<string>
  /** Holds conversions at their start until the returned release is called (work in flight). */
  readonly holdConversions: () => () => void
}

export const makeSimImages = (): SimImages => {
  const images = new Map<string, Stored>()
  const raws = new Map<string, Uint8Array>()
  const flights = makeSingleFlight()
  let converted = 0
  let gate: Promise<void> = Promise.resolve()

  const importBytes = (bytes: Uint8Array, expectedSha256?: string, source = "bytes") => Effect.suspend(() => {
    const expected = expectedSha256?.toLowerCase()
    const refuse = (reason: string) => Effect.fail(new ImageImportFailed({ source, reason }))
    if (expected !== undefined && !SHA256_HEX.test(expected)) return refuse(`expected sha256 "${expectedSha256}" is not 64 hex digits`)
    if (bytes.length > MAX_BYTES) return refuse(`${bytes.length} bytes is over the simulator's ${MAX_BYTES}`)
    const id = sha256(bytes)
    if (expected !== undefined && expected !== id) return refuse(`content hashes to ${id}, expected ${expected}`)
    if (bytes.length === 0) return refuse("the file is empty")
    const described = describe(bytes)
    if (typeof described === "string") return refuse(described)
    const info: ImageInfo = { id, format: described.format, sizeBytes: bytes.length, virtualSizeBytes: described.virtualSizeBytes }
    const existing = images.get(id)
    // Idempotent: an intact copy stays; a damaged one is replaced (and its conversion dropped).
    if (existing === undefined || sha256(existing.bytes) !== id) {
      images.set(id, { bytes: Uint8Array.from(bytes), info })
      raws.delete(id)
    }
    return Effect.succeed(info)
  })

  const verified = (id: string) => Effect.suspend((): Effect.Effect<Stored, ImageError> => {
    const stored = images.get(id)
    if (stored === undefined) return Effect.fail(new ImageNotFound({ id }))
    const actual = sha256(stored.bytes)
    return actual === id ? Effect.succeed(stored) : Effect.fail(new ImageCorrupt({ id, actual }))
  })

  const convertOnce = (id: string, stored: Stored) =>
    Effect.promise(() => flights.run(`raw:${id}`, async () => {
      if (!raws.has(id)) {
        converted++
        await gate
        const header = readQcow2Header(stored.bytes)
        if (typeof header === "string") throw new Error(header) // refused at import; cannot happen
        raws.set(id, qcow2ToRaw(stored.bytes, header))
      }
      return `sim-image:raw/${id}`
    }))

  const store: ImageStore["Service"] = {
    importFile: (path, expectedSha256) =>
      Effect.tryPromise({
        try: () => readFile(path),
        catch: (e) => new ImageImportFailed({ source: path, reason: (e as Error).message }),
      }).pipe(Effect.flatMap((bytes) => importBytes(bytes, expectedSha256, path))),
    info: (id) => Effect.suspend(() => {
      const stored = images.get(id)
      return stored === undefined ? Effect.fail(new ImageNotFound({ id })) : Effect.succeed(stored.info)
    }),
    pathOf: (id) => verified(id).pipe(Effect.as(`sim-image:images/${id}`)),
    rawPathOf: (id) => verified(id).pipe(Effect.flatMap((stored) =>
      stored.info.format === "raw" ? Effect.succeed(`sim-image:images/${id}`) : convertOnce(id, stored))),
    collect: (keep) => Effect.sync(() => {
      let removed = 0
      for (const id of new Set([...images.keys(), ...raws.keys()])) {
        if (keep.has(id) || flights.busy(`raw:${id}`)) continue
        if (raws.delete(id)) removed++
        if (images.delete(id)) removed++
      }
      return removed
    }),
  }

  return {
    store,
    importBytes,
    bytesAt: (path) => {
      const [, area, id = ""] = /^sim-image:(images|raw)\/(.*)$/.exec(path) ?? []
      return area === "images" ? images.get(id)?.bytes : area === "raw" ? raws.get(id) : undefined
    },
    corrupt: (id) => {
      const stored = images.get(id)
      if (stored !== undefined) stored.bytes[stored.bytes.length >> 1]! ^= 0xff
    },
    conversions: () => converted,
    entries: () => [...[...images.keys()].map((id) => `images/${id}`), ...[...raws.keys()].map((id) => `raw/${id}`)],
    holdConversions: () => {
      let release!: () => void
      gate = new Promise((resolve) => { release = resolve })
      return () => { gate = Promise.resolve(); release() }
    },
  }
}

export const SimImageStore = (sim: SimImages = makeSimImages()): Layer.Layer<ImageStore> => Layer.succeed(ImageStore, sim.store)
