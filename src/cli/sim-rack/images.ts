// The images a simulated rack deploys with, imported into the ipmi driver's image store: deploy
// kernel and ramdisk, an instance kernel and initrd (the simulated machines fetch them over TFTP
// but run nothing from them), and a small ext4 partition image to deploy.
import { execFile } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import type { ImageInfo, ImageStore } from "../../ports/image-store.ts"

export interface RackImages {
  /** sha256 ids in the store. */
  readonly deployKernel: string
  readonly deployRamdisk: string
  readonly kernel: string
  readonly ramdisk: string
  /** The sample partition image (raw ext4). */
  readonly sample: ImageInfo
  readonly samplePath: string
}

export const SAMPLE_IMAGE_BYTES = 64 * 1024 * 1024

// Fixed content: the same ids on every start, so nodes enrolled earlier keep valid references.
const bootFiles = {
  deployKernel: "ironledger simulated deploy kernel\n",
  deployRamdisk: "ironledger simulated deploy ramdisk\n",
  kernel: "ironledger simulated instance kernel\n",
  ramdisk: "ironledger simulated instance initrd\n",
} as const

const mkfs = (args: ReadonlyArray<string>) =>
  new Promise<void>((resolve, reject) =>
    execFile("mkfs.ext4", args, { timeout: 30_000 }, (error, _out, stderr) =>
      error === null ? resolve() : reject(new Error(`mkfs.ext4: ${stderr.trim() || error.message}`))))

/** A 64 MiB ext4 filesystem holding a tiny tree, made once and kept (its id stays the same). */
const ensureSampleImage = async (dir: string): Promise<string> => {
  const path = join(dir, "sample-root.img")
  if (existsSync(path)) return path
  const tree = mkdtempSync(join(dir, "tree-"))
  const tmp = `${path}.tmp`
  try {
    mkdirSync(join(tree, "etc"))
    writeFileSync(join(tree, "etc", "hostname"), "ironledger-sample\n")
    writeFileSync(join(tree, "etc", "os-release"), 'NAME="ironledger sample"\nID=ironledger-sample\n')
    writeFileSync(join(tree, "README"), "A sample partition image deployed by ironledger's simulated rack.\n")
    rmSync(tmp, { force: true })
    await mkfs(["-q", "-F", "-L", "sample-root", "-d", tree, tmp, `${SAMPLE_IMAGE_BYTES / 1024}k`])
    renameSync(tmp, path)
    return path
  } finally {
    rmSync(tree, { recursive: true, force: true })
    rmSync(tmp, { force: true })
  }
}

/** Writes (when missing) and imports the rack's images; importing again only re-hashes them. */
export const prepareRackImages = async (dir: string, store: ImageStore["Service"]): Promise<RackImages> => {
  mkdirSync(dir, { recursive: true })
  const importFile = (path: string) => Effect.runPromise(store.importFile(path))
  const ids: Record<string, string> = {}
  for (const [key, content] of Object.entries(bootFiles)) {
    const path = join(dir, key)
    if (!existsSync(path)) writeFileSync(path, content)
    ids[key] = (await importFile(path)).id
  }
  const samplePath = await ensureSampleImage(dir)
  return {
    deployKernel: ids["deployKernel"]!, deployRamdisk: ids["deployRamdisk"]!, kernel: ids["kernel"]!, ramdisk: ids["ramdisk"]!,
    sample: await importFile(samplePath), samplePath,
  }
}
