// ImageStore port: content-addressed images, verified on import and before every use.
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"

export type ImageFormat = "raw" | "qcow2"

export interface ImageInfo {
  /** sha256 of the content, hex. */
  readonly id: string
  readonly format: ImageFormat
  readonly sizeBytes: number
  readonly virtualSizeBytes: number
}

export class ImageNotFound extends Data.TaggedError("ImageNotFound")<{ readonly id: string }> {
  override get message() { return `image ${this.id} is not in the store` }
}
export class ImageCorrupt extends Data.TaggedError("ImageCorrupt")<{ readonly id: string; readonly actual: string }> {
  override get message() { return `image ${this.id} fails its checksum (content hashes to ${this.actual})` }
}
export class ImageImportFailed extends Data.TaggedError("ImageImportFailed")<{ readonly source: string; readonly reason: string }> {
  override get message() { return `importing ${this.source}: ${this.reason}` }
}
export type ImageError = ImageNotFound | ImageCorrupt | ImageImportFailed

export class ImageStore extends Context.Service<ImageStore, {
  /** Copies a local file in; `expectedSha256`, when given, must match. */
  readonly importFile: (path: string, expectedSha256?: string) => Effect.Effect<ImageInfo, ImageError>
  readonly info: (id: string) => Effect.Effect<ImageInfo, ImageError>
  /** A verified local path to the image as imported. */
  readonly pathOf: (id: string) => Effect.Effect<string, ImageError>
  /** A verified local path to the image converted to raw, converted once and shared. */
  readonly rawPathOf: (id: string) => Effect.Effect<string, ImageError>
  /** Removes cached conversions (and images) not in `keep`; returns how many entries went. */
  readonly collect: (keep: ReadonlySet<string>) => Effect.Effect<number, ImageError>
}>()("ironledger/ImageStore") {}
