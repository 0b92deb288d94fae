// BlockWriter port: writes a partition layout and an image onto a node's disk exported by its ramdisk.
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type { PartitionLayout } from "../domain/partition.ts"

export interface BlockTarget {
  readonly portal: string
  readonly port: number
  readonly iqn: string
  readonly lun: number
  readonly chap?: { readonly user: string; readonly secret: Redacted.Redacted<string> }
}

export interface WriteRequest {
  readonly target: BlockTarget
  /** A partition image goes into the layout's root partition; a whole-disk image over the disk. */
  readonly layout: PartitionLayout | null
  /** Local path of the image (from the ImageStore); its format is read from its content. */
  readonly imagePath: string
  readonly preserveEphemeral: boolean
  /**
   * The config drive (an ISO9660 or VFAT filesystem image, at most 64 MiB): written into the layout's
   * configdrive partition, or for a whole-disk image into a partition added at the disk's end.
   */
  readonly configDrive?: Uint8Array
  readonly onProgress?: (bytesWritten: number, totalBytes: number) => void
}

export interface WriteResult {
  readonly rootUuid: string | null
  readonly diskId: string | null
  readonly bytesWritten: number
  readonly durationMs: number
}

export class BlockWriteFailed extends Data.TaggedError("BlockWriteFailed")<{
  readonly target: string
  readonly reason: string
}> {
  override get message() { return `writing to ${this.target}: ${this.reason}` }
}

/** What an image must be for its target (see src/adapters/images/inspect.ts). */
export interface ImageCheck {
  readonly kind: "whole-disk" | "partition"
  /** Bytes of the root partition (partition image) or the disk (whole-disk image), when known. */
  readonly maxVirtualBytes?: number
}

export class BlockWriter extends Context.Service<BlockWriter, {
  /**
   * Inspects an image before anything is booted or written: only plain raw or qcow2 (no backing or
   * external data file, no json: names) that fits its target passes. Writers that cannot tell omit it.
   */
  readonly inspect?: (imagePath: string, check: ImageCheck) => Effect.Effect<void, BlockWriteFailed>
  readonly writeImage: (req: WriteRequest) => Effect.Effect<WriteResult, BlockWriteFailed>
  /** Destroys partition metadata at the start and end of the disk (teardown). */
  readonly wipe: (target: BlockTarget) => Effect.Effect<void, BlockWriteFailed>
}>()("ironledger/BlockWriter") {}
