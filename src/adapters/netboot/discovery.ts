// The discovery boot of machines no node knows (ADR 0090), as every process that serves a TFTP
// tree writes it: `serve --discovery` (through the netboot of its ipmi hardware type) and
// `conductor --discovery --dhcp-interface` (ADR 0140). One function, so both write the same config
// from the same default deploy images.
import { join } from "node:path"
import * as Effect from "effect/Effect"
import type { ImageStore } from "../../ports/index.ts"
import { makeFsImageStore } from "../images/fs-image-store.ts"
import { writeDiscoveryBoot } from "../pxe/discovery-boot.ts"
import { readDefaultDeployImages, type DeployImages } from "../ramdisk/build/register.ts"

export interface DiscoveryBootSource {
  readonly tftpRoot: string
  readonly images: ImageStore["Service"]
  /** The default deploy images (`ramdisk build`); null: none recorded, discovery cannot boot. */
  readonly defaults: DeployImages | null
  readonly appendParams?: string
}

/** Writes `pxelinux.cfg/default` and the discovery images into the tree, booting into the API at `apiUrl`. */
export const makeDiscoveryBoot = (source: DiscoveryBootSource) => async (apiUrl: string): Promise<void> => {
  const defaults = source.defaults
  if (defaults === null) throw new Error("discovery needs default deploy images (ironledger ramdisk build)")
  const path = (id: string) => Effect.runPromise(source.images.pathOf(id))
  await writeDiscoveryBoot(source.tftpRoot, {
    kernel: await path(defaults.kernel), ramdisk: await path(defaults.ramdisk),
    ...(defaults.ipmiAddon === undefined ? {} : { addon: await path(defaults.ipmiAddon) }),
  }, apiUrl, source.appendParams)
}

/** The same, from a state directory's image store (`<stateDir>/images`, where `ramdisk build` records its images). */
export const discoveryBootFromStateDir = async (stateDir: string, tftpRoot: string) => {
  const root = join(stateDir, "images")
  return makeDiscoveryBoot({ tftpRoot, images: await makeFsImageStore({ root }), defaults: await readDefaultDeployImages(root) })
}
