// The web view's console pane: GET /ui/nodes/{id}/console upgraded to a WebSocket, behind the same
// sign-in as the pages (session cookie or X-Auth-Token) and only from the service's own origin, so
// another site cannot open a signed-in browser's console. Watchers only read. `?write=1` asks to be
// the console's one writer (ADR 0146): a viewer who may write (an admin token, or no auth) gets it
// while no one else holds it (the TCP client of console_info, another pane).
import type { IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { WebSocketServer } from "ws"
import type { ConsoleHub } from "../../console/hub.ts"
import type { Service } from "../context.ts"
import type { Viewer } from "./pages.ts"

const refuse = (socket: Duplex, status: number, text: string) => {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`)
}

export const consolePath = /^\/ui\/nodes\/([^/?]+)\/console$/

export const makeConsoleUpgrade = (options: {
  readonly hub: ConsoleHub
  readonly service: Service | Promise<Service>
  readonly viewerOf: (req: IncomingMessage) => Viewer | null
}) => {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 })
  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {})
    const [path, query = ""] = (req.url ?? "").split("?") as [string, string?]
    const ref = consolePath.exec(path)?.[1]
    const writing = new URLSearchParams(query).get("write") === "1"
    if (ref === undefined) return refuse(socket, 404, "Not Found")
    const origin = req.headers.origin
    if (origin !== undefined && origin !== `http://${req.headers.host}`) return refuse(socket, 403, "Forbidden")
    const viewer = options.viewerOf(req)
    if (viewer === null) return refuse(socket, 401, "Unauthorized")
    if (writing && viewer.mayWrite !== true) return refuse(socket, 403, "Forbidden")
    const exit = await Effect.runPromiseExit((await options.service).get(decodeURIComponent(ref)))
    if (Exit.isFailure(exit)) return refuse(socket, 404, "Not Found")
    const node = exit.value
    wss.handleUpgrade(req, socket, head, (ws) => {
      let gone = false
      let leave: () => void = () => {}
      ws.on("close", () => { gone = true; leave() })
      ws.on("error", () => {})
      const client = {
        via: "websocket" as const, peer: `${req.socket.remoteAddress}:${req.socket.remotePort}`, actor: viewer.actor,
        send: (chunk: Buffer) => { if (ws.readyState === ws.OPEN) ws.send(chunk) },
        end: (message: string) => { if (ws.readyState === ws.OPEN) { if (message !== "") ws.send(Buffer.from(message)); ws.close(1000) } },
      }
      if (!writing) {
        // Watchers are read-only: what a browser sends is dropped.
        void options.hub.watch(node.uuid, client).then((l) => { leave = l; if (gone) l() })
        return
      }
      // The writer's keystrokes go to the serial line; what arrived before the line opened waits.
      let write: ((chunk: Buffer) => void) | null = null
      const early: Array<Buffer> = []
      ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
        const chunk = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
        if (write === null) early.push(chunk)
        else write(chunk)
      })
      void options.hub.take(node.uuid, client).then((held) => {
        if (held === null) return
        leave = held.leave
        write = held.write
        for (const chunk of early.splice(0)) held.write(chunk)
        if (gone) held.leave()
      })
    })
  }
  return { upgrade, close: () => wss.close() }
}
