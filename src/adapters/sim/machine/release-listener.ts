// The deploy ramdisk's wait for the conductor's word: a TCP listener on the machine's address and
// release port that resolves when a peer sends "done" (see src/adapters/ramdisk/tcp.ts). Anything
// else is answered by closing the connection and keeps the ramdisk waiting.
import { createServer, type Server, type Socket } from "node:net"

export type ReleaseOutcome = { readonly kind: "done"; readonly from: string } | { readonly kind: "timeout" }

export interface ReleaseListener {
  /** Resolves on "done" or once `timeoutMs` has passed since the listener opened. */
  readonly released: Promise<ReleaseOutcome>
  readonly close: () => Promise<void>
}

const MAX_MESSAGE = 64

export const listenForRelease = (
  address: string, port: number, timeoutMs: number, onIgnored: (what: string) => void,
): Promise<ReleaseListener> =>
  new Promise((resolveListening, rejectListening) => {
    let resolveReleased!: (o: ReleaseOutcome) => void
    const released = new Promise<ReleaseOutcome>((r) => { resolveReleased = r })
    const open = new Set<Socket>()
    const server: Server = createServer((socket) => {
      open.add(socket)
      socket.once("close", () => open.delete(socket))
      let text = ""
      const from = `${socket.remoteAddress}:${socket.remotePort}`
      const judge = () => {
        if (text.trim() === "done") {
          // Close our side: the conductor waits for that as the ramdisk's acknowledgement.
          socket.end()
          resolveReleased({ kind: "done", from })
        } else {
          onIgnored(`${from} sent ${JSON.stringify(text.slice(0, MAX_MESSAGE))} instead of "done"`)
          socket.destroy()
        }
      }
      socket.setEncoding("utf8")
      socket.setTimeout(10_000, () => socket.destroy())
      socket.on("data", (d: string) => {
        text += d
        if (text.includes("\n") || text.length >= MAX_MESSAGE) { socket.removeAllListeners("data"); judge() }
      })
      socket.once("end", () => { if (!socket.destroyed && !socket.writableEnded) judge() })
      socket.on("error", () => socket.destroy())
    })
    const timer = setTimeout(() => resolveReleased({ kind: "timeout" }), timeoutMs)
    const close = () => new Promise<void>((r) => {
      clearTimeout(timer)
      server.close(() => r())
      for (const socket of open) socket.destroy()
    })
    server.once("error", (e) => {
      clearTimeout(timer)
      rejectListening(new Error(`cannot listen for "done" on ${address}:${port}: ${e.message}`))
    })
    server.listen({ host: address, port, exclusive: true }, () => resolveListening({ released, close }))
  })
