// Free loopback ports for simulated BMCs, found by letting the kernel pick one. Another process could
// take it before ipmi_sim binds; the launcher then fails with ipmi_sim's "Address already in use".
import { createSocket } from "node:dgram"
import { createServer } from "node:net"

export const freeUdpPort = (address = "127.0.0.1"): Promise<number> =>
  new Promise((resolve, reject) => {
    const socket = createSocket("udp4")
    socket.once("error", reject)
    socket.bind(0, address, () => {
      const { port } = socket.address()
      socket.close(() => resolve(port))
    })
  })

export const freeTcpPort = (address = "127.0.0.1"): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, address, () => {
      const where = server.address()
      const port = typeof where === "object" && where !== null ? where.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no TCP port was assigned"))))
    })
  })

/** Whether `port` can be bound now: ipmi_sim shares UDP ports (SO_REUSEADDR), so it would not say. */
export const udpPortFree = (address: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createSocket("udp4")
    socket.once("error", () => { socket.close(); resolve(false) })
    socket.bind(port, address, () => socket.close(() => resolve(true)))
  })

export const tcpPortFree = (address: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer()
    server.once("error", () => resolve(false))
    server.listen(port, address, () => server.close(() => resolve(true)))
  })
