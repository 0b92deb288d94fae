// Request bodies: JSON only, size-checked while streaming (a huge body is refused before it is
// buffered), parsed defensively. What comes out is `unknown` for the codecs to judge.
import type { IncomingMessage } from "node:http"
import { HttpError } from "./errors.ts"

export const defaultBodyLimit = 1024 * 1024
/** Past the limit we keep reading (and dropping) this much more so the client can read our 413. */
const drainAllowance = 16 * 1024 * 1024

const isJson = (contentType: string): boolean => {
  const media = contentType.split(";")[0]!.trim().toLowerCase()
  return media === "application/json" || media.endsWith("+json")
}

/** Resolves to the parsed body, or `undefined` when there is none. */
export const readJsonBody = (req: IncomingMessage, limit: number): Promise<unknown> => {
  const declared = req.headers["content-length"]
  if (declared !== undefined && Number(declared) > limit) {
    return drain(req).then(() => { throw tooLarge(limit) })
  }
  return new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    let over = false
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (over) {
        if (size > limit + drainAllowance) req.destroy()
        return
      }
      if (size > limit) {
        over = true
        chunks.length = 0
        return
      }
      chunks.push(chunk)
    })
    req.on("error", (err) => reject(new HttpError(400, `The request body could not be read: ${err.message}`)))
    // Before "end", the client went away. After it nothing is left to say: no error is built (an
    // Error's stack costs more than the rest of a small request's reading).
    let ended = false
    req.on("close", () => { if (!ended) reject(new HttpError(400, "The request was aborted.")) })
    req.on("end", () => {
      ended = true
      if (over) return reject(tooLarge(limit))
      if (size === 0) return resolve(undefined)
      const contentType = req.headers["content-type"]
      if (contentType === undefined || !isJson(contentType)) {
        return reject(new HttpError(415, `The request body must be JSON (Content-Type: application/json), not ${contentType === undefined ? "untyped" : JSON.stringify(contentType.slice(0, 80))}.`))
      }
      const text = Buffer.concat(chunks).toString("utf8")
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch (e) {
        return reject(new HttpError(400, `The request body is not valid JSON: ${(e as Error).message}`))
      }
      if (depthOf(parsed) > maxDepth) return reject(new HttpError(400, `The request body is nested deeper than ${maxDepth} levels.`))
      resolve(parsed)
    })
  })
}

/** Deeply nested JSON would overflow the stack later (cloning, logging, storing): refuse it here. */
const maxDepth = 32

const depthOf = (root: unknown): number => {
  let deepest = 0
  const stack: Array<[unknown, number]> = [[root, 1]]
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!
    if (typeof value !== "object" || value === null) continue
    if (depth > deepest) deepest = depth
    if (deepest > maxDepth) return deepest
    for (const child of Object.values(value)) stack.push([child, depth + 1])
  }
  return deepest
}

const tooLarge = (limit: number) =>
  new HttpError(413, `The request body is larger than the limit of ${limit} bytes.`)

const drain = (req: IncomingMessage): Promise<void> =>
  new Promise((resolve) => {
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > drainAllowance) { req.destroy(); resolve() }
    })
    req.on("end", () => resolve())
    req.on("error", () => resolve())
    req.on("close", () => resolve())
  })
