// qemu-img as the authority on image formats: what a file is (`info`) and its raw bytes (`convert`).
import { execFile } from "node:child_process"
import type { ImageFormat } from "../../ports/image-store.ts"

export type Described =
  | { readonly ok: true; readonly format: ImageFormat; readonly virtualSizeBytes: number }
  | { readonly ok: false; readonly reason: string }

const INFO_TIMEOUT_MS = 60_000

const run = (program: string, args: ReadonlyArray<string>, timeout: number): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(program, args, { timeout, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout)
      else reject(new Error(`${program} ${args[0]}: ${stderr.trim() || error.message}`))
    })
  })

/** Reads the format from the content (qemu-img probes it) and refuses what we do not deploy. */
export const describeImage = async (qemuImg: string, path: string): Promise<Described> => {
  let info: Record<string, unknown>
  try {
    info = JSON.parse(await run(qemuImg, ["info", "--output=json", path], INFO_TIMEOUT_MS))
  } catch (e) {
    return { ok: false, reason: `not a readable image: ${(e as Error).message}` }
  }
  const format = info["format"]
  if (format !== "raw" && format !== "qcow2")
    return { ok: false, reason: `format ${String(format)} is not supported (only raw and qcow2; convert it first)` }
  // A backing or external data file would make qemu-img read another host file when converting.
  if (info["backing-filename"] !== undefined) return { ok: false, reason: "qcow2 images with a backing file are refused" }
  const specific = (info["format-specific"] as { data?: Record<string, unknown> } | undefined)?.data
  if (specific?.["data-file"] !== undefined) return { ok: false, reason: "qcow2 images with an external data file are refused" }
  if (info["encrypted"] === true) return { ok: false, reason: "encrypted images are refused" }
  const virtualSizeBytes = info["virtual-size"]
  if (typeof virtualSizeBytes !== "number") return { ok: false, reason: "qemu-img reported no virtual size" }
  return { ok: true, format, virtualSizeBytes }
}

/** Writes the raw bytes of a qcow2 image to `target` (sparse where the image has holes). */
export const convertToRaw = async (qemuImg: string, source: string, target: string): Promise<void> => {
  // No timeout: a large image legitimately takes minutes; callers bound their own wait.
  await run(qemuImg, ["convert", "-f", "qcow2", "-O", "raw", source, target], 0)
}
