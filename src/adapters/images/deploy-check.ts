// The deploy's image check as a BlockWriter offers it: inspect.ts (qemu-img, format pinned) with
// the target the deploy will write, its refusal as the writer's failure.
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import { BlockWriteFailed, type ImageCheck } from "../../ports/block-writer.ts"
import { inspectImage } from "./inspect.ts"

export const inspectForDeploy = (imagePath: string, check: ImageCheck): Effect.Effect<void, BlockWriteFailed> =>
  Effect.flatMap(
    Effect.promise(() => inspectImage(imagePath, { kind: check.kind, ...(check.maxVirtualBytes === undefined ? {} : { maxVirtualBytes: check.maxVirtualBytes }) })),
    (result) => E.isLeft(result) ? Effect.fail(new BlockWriteFailed({ target: imagePath, reason: `the image is refused: ${result.left}` })) : Effect.void,
  )
