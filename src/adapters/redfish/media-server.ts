// Where a BMC fetches a node's virtual-media ISO: an HTTP server that answers exactly the URLs it
// published, one unguessable token each (the ISO holds the deploy key), and nothing else: no
// listing, no other path. It runs while some ISO is published and stops after the last goes.
import { randomBytes } from "node:crypto"
import { createReadStream } from "node:fs"
import { stat } from "node:fs/promises"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"

export interface MediaServer {
  /** Publishes the file under a new token; the URL the BMC is given. */
  readonly publish: (owner: string, path: string) => Promise<string>
  /** Stops serving the owner's files (all of them). */
  readonly withdraw: (owner: string) => Promise<void>
  readonly close: () => Promise<void>
}

export const makeMediaServer = (host: string, port = 0): MediaServer => {
  const published = new Map<string, { owner: string; path: string }>()
  let server: Promise<{ server: Server; port: number }> | null = null

  const answer = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
    const token = /^\/vmedia\/([0-9a-f]{64})\.iso$/.exec(req.url ?? "")?.[1]
    const entry = token === undefined ? undefined : published.get(token)
    if (entry === undefined || (req.method !== "GET" && req.method !== "HEAD")) { res.statusCode = 404; res.end(); return }
    stat(entry.path).then((s) => {
      res.setHeader("Content-Type", "application/octet-stream")
      res.setHeader("Content-Length", String(s.size))
      if (req.method === "HEAD") { res.end(); return }
      createReadStream(entry.path).on("error", () => res.destroy()).pipe(res)
    }, () => { res.statusCode = 404; res.end() })
  }

  const started = () => {
    server ??= new Promise((resolve, reject) => {
      const s = createServer(answer)
      // Never what keeps the service's process alive: it stops with the last ISO withdrawn.
      s.unref()
      s.once("error", reject)
      s.listen(port, host, () => resolve({ server: s, port: (s.address() as AddressInfo).port }))
    })
    return server
  }

  const stop = async () => {
    const s = server
    server = null
    if (s === null) return
    const { server: running } = await s.catch(() => ({ server: null }))
    if (running === null) return
    running.closeAllConnections()
    await new Promise<void>((resolve) => running.close(() => resolve()))
  }

  const hostPart = host.includes(":") ? `[${host}]` : host
  return {
    publish: async (owner, path) => {
      const token = randomBytes(32).toString("hex")
      const { port: listening } = await started()
      published.set(token, { owner, path })
      return `http://${hostPart}:${listening}/vmedia/${token}.iso`
    },
    withdraw: async (owner) => {
      for (const [token, e] of published) if (e.owner === owner) published.delete(token)
      if (published.size === 0) await stop()
    },
    close: stop,
  }
}
