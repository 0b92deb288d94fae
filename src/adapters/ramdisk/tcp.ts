// DeployRamdisk over TCP, as the seeds' ramdisk expects: connect to its address on the release
// port, send "done", and wait for it to close the connection (it then reboots into the image).
import { connect } from "node:net"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { DeployRamdisk, RamdiskUnreachable } from "../../ports/index.ts"

export interface TcpRamdiskConfig {
  /** Bound on connect + send + the ramdisk's close. */
  readonly timeoutMs: number
}

export const releaseOverTcp = (address: string, port: number, timeoutMs: number) =>
  Effect.callback<void, RamdiskUnreachable>((resume) => {
    const where = `${address}:${port}`
    const socket = connect({ host: address, port })
    let settled = false
    const finish = (error: string | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resume(error === null ? Effect.void : Effect.fail(new RamdiskUnreachable({ address: where, reason: error })))
    }
    const timer = setTimeout(() => finish(`no answer within ${timeoutMs} ms`), timeoutMs)
    socket.once("connect", () => socket.end("done\n"))
    socket.once("error", (e) => finish(e.message))
    socket.once("close", () => finish(null))
    return Effect.sync(() => finish("interrupted"))
  })

export const TcpDeployRamdisk = (config: TcpRamdiskConfig = { timeoutMs: 10_000 }) =>
  Layer.succeed(DeployRamdisk, { release: (address, port) => releaseOverTcp(address, port, config.timeoutMs) })
