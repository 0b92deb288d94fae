// The BlockWriter over iSCSI: each operation opens the target through qemu's userspace libiscsi
// driver (see ADR 0007) with a private scratch directory that holds the CHAP secret file and is
// removed afterwards, whatever happens.
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { BlockWriteFailed, BlockWriter, type BlockTarget } from "../../ports/block-writer.ts"
import type { DiskAccess, DiskFault } from "./disk-access.ts"
import { withScratchDir } from "./local-media.ts"
import { openIscsiDisk, targetName, targetProblem } from "./qemu-iscsi-disk.ts"
import { wipeDisk, writeImageOnto } from "./write-image.ts"
import { inspectForDeploy } from "../images/deploy-check.ts"

export interface IscsiBlockWriterOptions {
  /** Parent of the per-operation scratch directories (the ephemeral filesystem is built there); default: the OS temp dir. */
  readonly scratchDir?: string
}

const onTarget = <A>(target: BlockTarget, options: IscsiBlockWriterOptions, use: (disk: DiskAccess, scratch: string) => Effect.Effect<A, DiskFault>) => {
  const problem = targetProblem(target)
  const failed = (reason: string) => new BlockWriteFailed({ target: targetName(target), reason })
  if (problem) return Effect.fail(failed(problem))
  return withScratchDir(options.scratchDir, (scratch) => Effect.flatMap(openIscsiDisk(target, scratch), (disk) => use(disk, scratch))).pipe(
    Effect.mapError((fault) => failed(fault.reason)),
  )
}

export const iscsiBlockWriter = (options: IscsiBlockWriterOptions = {}): BlockWriter["Service"] => ({
  inspect: (imagePath, check) => inspectForDeploy(imagePath, check),
  writeImage: (req) => onTarget(req.target, options, (disk, scratch) => writeImageOnto(disk, req, scratch)),
  wipe: (target) => onTarget(target, options, (disk) => wipeDisk(disk)),
})

export const iscsiBlockWriterLayer = (options: IscsiBlockWriterOptions = {}): Layer.Layer<BlockWriter> =>
  Layer.succeed(BlockWriter, iscsiBlockWriter(options))
