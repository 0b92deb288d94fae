// sha256 of image content, streamed in 1 MiB chunks: images can be many GiB, never held in memory.
import { createHash } from "node:crypto"
import { createReadStream } from "node:fs"
import { open } from "node:fs/promises"
import { pipeline } from "node:stream/promises"

const CHUNK = 1 << 20

export const SHA256_HEX = /^[0-9a-f]{64}$/

/** Copies `source` to a new file `target` (must not exist), hashing the bytes as they pass. */
export const copyHashing = async (source: string, target: string): Promise<{ sha256: string; size: number }> => {
  const hash = createHash("sha256")
  let size = 0
  // Both files are opened before streaming: a missing source fails before the target exists, and
  // the target exists before any failure, so the caller's cleanup cannot race its creation.
  const input = await open(source, "r")
  const output = await open(target, "wx").catch(async (e) => { await input.close(); throw e })
  await pipeline(
    input.createReadStream({ highWaterMark: CHUNK }),
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        hash.update(chunk)
        size += chunk.length
        yield chunk
      }
    },
    output.createWriteStream({ flush: true }), // on disk before it is renamed into the store
  )
  return { sha256: hash.digest("hex"), size }
}

export const hashFile = async (path: string): Promise<string> => {
  const hash = createHash("sha256")
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) hash.update(chunk as Buffer)
  return hash.digest("hex")
}
