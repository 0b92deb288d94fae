// The tools bundle beside the image store, as the deploy images are: a copy named by its sha256
// and <store>/ramdisk-tools.json naming it, which the API serves to the ramdisk (ADR 0100).
import { createHash } from "node:crypto"
import { createReadStream } from "node:fs"
import { copyFile, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import type { ToolsBundle } from "./bundle.ts"

const FILE = "ramdisk-tools.json"
const SHA256 = /^[0-9a-f]{64}$/

export interface RegisteredTools { readonly path: string; readonly sha256: string; readonly bytes: number }

const sha256Of = (path: string) => new Promise<string>((ok, fail) => {
  const h = createHash("sha256")
  createReadStream(path).on("data", (c) => h.update(c)).on("error", fail).on("end", () => ok(h.digest("hex")))
})

/** Copies the bundle into the store (checked against its hash) and records it. */
export const registerToolsBundle = async (storeRoot: string, bundle: ToolsBundle): Promise<RegisteredTools> => {
  const dir = join(storeRoot, "ramdisk-tools")
  await mkdir(dir, { recursive: true })
  const path = join(dir, `${bundle.sha256}.cpio.gz`)
  await copyFile(bundle.path, `${path}.tmp`)
  if (await sha256Of(`${path}.tmp`) !== bundle.sha256) throw new Error(`the tools bundle copy in ${dir} does not match ${bundle.sha256}`)
  await rename(`${path}.tmp`, path)
  await writeFile(join(storeRoot, `${FILE}.tmp`), JSON.stringify({ sha256: bundle.sha256, bytes: bundle.bytes, buildId: bundle.buildId }, null, 2) + "\n")
  await rename(join(storeRoot, `${FILE}.tmp`), join(storeRoot, FILE))
  return { path, sha256: bundle.sha256, bytes: bundle.bytes }
}

/** The recorded bundle, or null when none was registered (or its file is gone or the wrong size). */
export const readToolsBundle = async (storeRoot: string): Promise<RegisteredTools | null> => {
  try {
    const v = JSON.parse(await readFile(join(storeRoot, FILE), "utf8")) as Record<string, unknown>
    const sha256 = v["sha256"], bytes = v["bytes"]
    if (typeof sha256 !== "string" || !SHA256.test(sha256) || typeof bytes !== "number") return null
    const path = join(storeRoot, "ramdisk-tools", `${sha256}.cpio.gz`)
    return (await stat(path)).size === bytes ? { path, sha256, bytes } : null
  } catch {
    return null
  }
}
