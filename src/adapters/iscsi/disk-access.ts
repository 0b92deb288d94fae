// What writing a deploy needs from a disk, whatever carries the bytes: the iSCSI adapter reaches a
// LUN through qemu-img/qemu-io, the simulated one a local file. The layout logic (write-image.ts) is
// written once against this.
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type { ImageFormat } from "../../ports/image-store.ts"

export class DiskFault extends Data.TaggedError("DiskFault")<{ readonly reason: string }> {}

export interface ByteRange {
  readonly offset: number
  readonly length: number
}

/** A small write: given bytes, or zeros over a range. */
export type DiskWrite =
  | { readonly offset: number; readonly bytes: Uint8Array }
  | { readonly offset: number; readonly zeros: number }

export interface SourceImage {
  readonly path: string
  /** Read from the content, never from the name. */
  readonly format: ImageFormat
  readonly virtualSizeBytes: number
}

/**
 * A filesystem built in a local sparse file: only the ranges mkfs wrote matter. `dataExtents` are the
 * file's allocated ranges (data and the zeros mkfs wrote on purpose, e.g. the journal); `zeroRanges`
 * are the zero pages among them, which a copy that skips zeros must still write.
 */
export interface BuiltFilesystem {
  readonly path: string
  readonly sizeBytes: number
  readonly dataExtents: ReadonlyArray<ByteRange>
  readonly zeroRanges: ReadonlyArray<ByteRange>
}

export interface DiskAccess {
  /** For errors: e.g. iscsi://127.0.0.1:3260/iqn.2026-11.org.example:node1/1 */
  readonly name: string
  readonly sizeBytes: Effect.Effect<number, DiskFault>
  readonly read: (range: ByteRange) => Effect.Effect<Uint8Array, DiskFault>
  /** Applied in order. */
  readonly write: (writes: ReadonlyArray<DiskWrite>) => Effect.Effect<void, DiskFault>
  /**
   * Writes the image's virtual content at `offset` (zeros included: old data must not show through),
   * inside a region of `regionBytes`. `onProgress` gets the bytes done so far, increasing.
   */
  readonly copyImage: (
    image: SourceImage,
    offset: number,
    regionBytes: number,
    onProgress: (bytesDone: number) => void,
  ) => Effect.Effect<void, DiskFault>
  /** Writes what mkfs wrote (its data extents) at `offset`; ranges it never touched are left alone. */
  readonly copyFilesystem: (fs: BuiltFilesystem, offset: number) => Effect.Effect<void, DiskFault>
}
