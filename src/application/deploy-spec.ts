// What a deploy will write, read from the node's instance_info (Ironic's fields) when it is asked for.
import * as E from "fp-ts/lib/Either.js"
import { pipe } from "fp-ts/lib/function.js"
import type { DeploySpec, NodeState, Sealed, Uuid } from "../domain/index.ts"
import { NonNegativeInt } from "../domain/index.ts"

const whole = (info: Record<string, unknown>, key: string, fallback: number): E.Either<string, NonNegativeInt> => {
  const raw = info[key] ?? fallback
  const n = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : raw
  return NonNegativeInt.is(n) ? E.right(n) : E.left(`instance_info.${key} must be a whole number >= 0, got ${JSON.stringify(raw)}`)
}

export const deploySpecFor = (
  node: NodeState,
  /** Whether the node's deploy interface can deploy without an image (fake, simulated). */
  imageOptional: boolean,
  fresh: { deployId: Uuid; keyHash: string; sealedKey: Sealed; preserveEphemeral: boolean },
): E.Either<string, DeploySpec> => {
  const info = node.instanceInfo
  const source = info["image_source"]
  if (!imageOptional && (typeof source !== "string" || source === "")) {
    return E.left(`Node ${node.nodeId} has no instance_info.image_source to deploy.`)
  }
  // Ironic's rule: an image with its own kernel and ramdisk is a partition image.
  const partition = typeof info["kernel"] === "string" && typeof info["ramdisk"] === "string"
  return pipe(
    E.Do,
    E.bind("rootGb", () => whole(info, "root_gb", partition ? 1 : 0)),
    E.bind("swapMb", () => whole(info, "swap_mb", 0)),
    E.bind("ephemeralGb", () => whole(info, "ephemeral_gb", 0)),
    E.map(({ rootGb, swapMb, ephemeralGb }) => ({
      ...fresh,
      imageSource: typeof source === "string" ? source : "",
      imageKind: partition ? ("partition" as const) : ("whole-disk" as const),
      rootGb, swapMb, ephemeralGb,
    })),
  )
}
