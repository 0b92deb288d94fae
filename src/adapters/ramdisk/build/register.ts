// The built ramdisk in the image store, and the store's record of the default deploy images that
// nodes enrolled without deploy_kernel/deploy_ramdisk boot: <store root>/deploy-images.json.
import { readFile, rename, writeFile } from "node:fs/promises"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import type { ImageError, ImageStore } from "../../../ports/image-store.ts"
import { SHA256_HEX } from "../../images/content-hash.ts"
import type { BuiltRamdisk } from "./build.ts"

export interface DeployImages {
  /** Image ids (sha256) in the store. */
  readonly kernel: string
  readonly ramdisk: string
  /** The discovery boot's second initramfs (ipmitool, ADR 0090); absent in older records. */
  readonly ipmiAddon?: string
}

const FILE = "deploy-images.json"

/** Imports kernel and initramfs (checked against the build's hashes) and returns their ids. */
export const registerRamdisk = (store: ImageStore["Service"], built: BuiltRamdisk): Effect.Effect<DeployImages, ImageError> =>
  Effect.gen(function* () {
    const kernel = yield* store.importFile(built.kernel, built.kernelSha256)
    const ramdisk = yield* store.importFile(built.initramfs, built.initramfsSha256)
    const addon = yield* store.importFile(built.ipmiAddon, built.ipmiAddonSha256)
    return { kernel: kernel.id, ramdisk: ramdisk.id, ipmiAddon: addon.id }
  })

/** Records the defaults beside the store's images (atomically). */
export const writeDefaultDeployImages = async (storeRoot: string, images: DeployImages & { readonly buildId?: string }) => {
  const tmp = join(storeRoot, `${FILE}.tmp`)
  await writeFile(tmp, JSON.stringify(images, null, 2) + "\n")
  await rename(tmp, join(storeRoot, FILE))
}

/** The recorded defaults, or null when no ramdisk was ever registered (or the record is damaged). */
export const readDefaultDeployImages = async (storeRoot: string): Promise<DeployImages | null> => {
  const text = await readFile(join(storeRoot, FILE), "utf8").catch(() => null)
  if (text === null) return null
  try {
    const v = JSON.parse(text) as Record<string, unknown>
    const kernel = v["kernel"], ramdisk = v["ramdisk"], addon = v["ipmiAddon"]
    return typeof kernel === "string" && SHA256_HEX.test(kernel) && typeof ramdisk === "string" && SHA256_HEX.test(ramdisk)
      ? { kernel, ramdisk, ...(typeof addon === "string" && SHA256_HEX.test(addon) ? { ipmiAddon: addon } : {}) } : null
  } catch {
    return null
  }
}
