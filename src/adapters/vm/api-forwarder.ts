// The host's way in to a service that runs inside the rack's network namespace: a TCP listener on
// the host's loopback that pipes each connection to a Unix socket the service also listens on (a
// socket path is visible from every namespace). Nothing is added to the host's network.
import { connect, createServer, type Server, type Socket } from "node:net"

export interface ApiForwarder {
  readonly port: number
  readonly close: () => Promise<void>
}

export const startApiForwarder = (socketPath: string, host = "127.0.0.1", port = 6385): Promise<ApiForwarder> =>
  new Promise((resolve, reject) => {
    const open = new Set<Socket>()
    const server: Server = createServer((client) => {
      const upstream = connect(socketPath)
      open.add(client)
      client.pipe(upstream).pipe(client)
      // Either side failing ends both: a half-open pair would hold the client forever.
      const end = () => { client.destroy(); upstream.destroy(); open.delete(client) }
      client.once("error", end)
      upstream.once("error", end)
      client.once("close", end)
      upstream.once("close", end)
    })
    server.once("error", reject)
    server.listen(port, host, () => {
      const address = server.address()
      resolve({
        port: typeof address === "object" && address !== null ? address.port : port,
        close: () => new Promise<void>((done) => { server.close(() => done()); for (const c of open) c.destroy() }),
      })
    })
  })
