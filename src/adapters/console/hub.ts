// Serves enabled consoles (ADR 0064). Per node, a TCP port as Ironic's socat console gives one
// (console_info's tcp:// URL): one client at a time, and it is the one writer. The web view's
// WebSocket clients watch; one of them may take the writer's place while no one holds it (ADR 0146). The node's serial line (IPMI SOL, a simulated UART) is opened when
// the first client comes and closed when the last leaves, so a BMC's single SOL session is held
// only while someone looks. Every connection opened and closed is recorded in the node's history.
import { createServer, type Server, type Socket } from "node:net"
import type { AddressInfo } from "node:net"
import { randomUUID } from "node:crypto"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { SerialLine } from "../../application/hardware/console.ts"
import type { NodeService } from "../../application/node-service.ts"

type Service = NodeService["Service"]

/** What a client is to the hub: a TCP socket or a WebSocket, behind one shape. */
export interface ConsoleClient {
  readonly via: "tcp" | "websocket"
  readonly peer: string
  readonly actor: string
  readonly send: (chunk: Buffer) => void
  readonly end: (message: string) => void
}

interface Attached extends ConsoleClient {
  readonly connection: string
  readonly writer: boolean
  readonly openedAt: number
}

interface NodeConsole {
  readonly uuid: string
  readonly server: Server
  readonly port: number
  /** Who enabled it: TCP clients (who got the URL from them) are recorded under this actor. */
  readonly enabledBy: string
  readonly clients: Set<Attached>
  line: Promise<SerialLine> | null
  /** The last line closed, until it has ended: a BMC's SOL session is opened again only after. */
  closing: Promise<void>
  /** The last output, replayed to a watcher who joins. */
  scrollback: Buffer
}

const scrollbackBytes = 16 * 1024

export interface ConsoleInfo {
  readonly type: "socat"
  readonly url: string
}

export interface ConsoleHub {
  /** Starts serving the node's console (idempotent); the service has already recorded ConsoleEnabled. */
  readonly serve: (uuid: string, actor: string) => Promise<ConsoleInfo>
  /** Stops serving: every client is disconnected (and recorded), the line closed. */
  readonly stop: (uuid: string) => Promise<void>
  readonly info: (uuid: string) => ConsoleInfo | null
  /** A read-only watcher (the web view); call the result when the watcher goes away. */
  readonly watch: (uuid: string, client: ConsoleClient) => Promise<() => void>
  /**
   * The web view's writer (ADR 0146): the console's one writer while it stays, or, when a writer
   * holds the console already, told who and turned away (null).
   */
  readonly take: (uuid: string, client: ConsoleClient) => Promise<{ readonly write: (chunk: Buffer) => void; readonly leave: () => void } | null>
  readonly close: () => Promise<void>
}

const runVoid = (e: Effect.Effect<unknown, unknown>) => Effect.runPromiseExit(e).then(() => undefined)

export const createConsoleHub = (options: { readonly service: Service | Promise<Service>; readonly host: string; readonly log?: (line: string) => void }): ConsoleHub => {
  const consoles = new Map<string, NodeConsole>()
  const urlHost = options.host.includes(":") ? `[${options.host}]` : options.host

  const record = async (c: NodeConsole, client: Attached, opened: boolean) => {
    const service = await options.service
    const base = { connection: client.connection, via: client.via, peer: client.peer }
    await runVoid(service.recordConsoleConnection(c.uuid, opened
      ? { opened: true, data: { ...base, writer: client.writer } }
      : { opened: false, data: { ...base, durationMs: Date.now() - client.openedAt } }, client.actor))
  }

  const lineOf = (c: NodeConsole): Promise<SerialLine> => {
    if (c.line !== null) return c.line
    const opening = (async () => {
      // Opened while the last session still winds down, a new SOL session is ended by the old
      // one's ending at the BMC (one SOL payload per machine).
      await c.closing
      const exit = await Effect.runPromiseExit((await options.service).openConsole(c.uuid))
      if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
      const line = exit.value
      line.onData((chunk) => {
        c.scrollback = Buffer.concat([c.scrollback, chunk]).subarray(-scrollbackBytes)
        for (const client of c.clients) client.send(chunk)
      })
      line.onEnd((reason) => {
        if (c.line === opening) c.line = null
        for (const client of [...c.clients]) void detach(c, client, `\r\n[console line ended: ${reason}]\r\n`)
      })
      return line
    })()
    c.line = opening
    opening.catch(() => { if (c.line === opening) c.line = null })
    return opening
  }

  const detach = async (c: NodeConsole, client: Attached, message: string) => {
    if (!c.clients.delete(client)) return
    client.end(message)
    await record(c, client, false)
    if (c.clients.size === 0 && c.line !== null) {
      const line = c.line
      c.line = null
      c.scrollback = Buffer.alloc(0)
      c.closing = line.then((l) => new Promise<void>((done) => {
        const timer = setTimeout(done, 5_000)
        l.onEnd(() => { clearTimeout(timer); done() })
        l.close()
      }), () => {})
    }
  }

  /** Adds a client, opening the line if it is the first; false (and the client told why) when the line cannot open. */
  const attach = async (c: NodeConsole, client: ConsoleClient, writer: boolean): Promise<Attached | null> => {
    const attached: Attached = { ...client, connection: randomUUID(), writer, openedAt: Date.now() }
    c.clients.add(attached)
    await record(c, attached, true)
    try {
      const line = await lineOf(c)
      if (!c.clients.has(attached)) return null
      // A TCP writer (a terminal) starts from now; the web view's panes start with the last output.
      if (client.via === "websocket" && c.scrollback.length > 0) client.send(c.scrollback)
      void line
      return attached
    } catch (e) {
      await detach(c, attached, `\r\n[the console could not be opened: ${(e as Error).message.slice(0, 300)}]\r\n`)
      return null
    }
  }

  /** Who holds the console's writing, in words, or null when no one does. */
  const holder = (c: NodeConsole): string | null => {
    const busy = [...c.clients].find((x) => x.writer)
    return busy === undefined ? null
      : `The console of this node is in use (${busy.via} from ${busy.peer} since ${new Date(busy.openedAt).toISOString()}).\r\n`
  }

  const onSocket = (c: NodeConsole) => (socket: Socket) => {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`
    socket.on("error", () => {})
    const busy = holder(c)
    if (busy !== null) {
      // Never two writers: a second TCP client is told who holds the console and turned away.
      socket.end(busy)
      return
    }
    const client: ConsoleClient = {
      via: "tcp", peer, actor: c.enabledBy,
      send: (chunk) => { if (!socket.destroyed) socket.write(chunk) },
      end: (message) => { if (!socket.destroyed) socket.end(message) },
    }
    let attached: Attached | null = null
    const pending: Array<Buffer> = []
    socket.on("data", (chunk: Buffer) => {
      if (attached === null) pending.push(chunk)
      else void c.line?.then((l) => l.write(chunk), () => {})
    })
    socket.on("close", () => { if (attached !== null) void detach(c, attached, "") })
    void attach(c, client, true).then((a) => {
      attached = a
      if (a === null) return
      if (socket.destroyed) { void detach(c, a, ""); return }
      for (const chunk of pending.splice(0)) void c.line?.then((l) => l.write(chunk), () => {})
    })
  }

  const serve = async (uuid: string, actor: string): Promise<ConsoleInfo> => {
    const existing = consoles.get(uuid)
    if (existing !== undefined) return { type: "socat", url: `tcp://${urlHost}:${existing.port}` }
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject)
      server.listen(0, options.host, () => { server.off("error", reject); resolve() })
    })
    const again = consoles.get(uuid)
    if (again !== undefined) {
      server.close()
      return { type: "socat", url: `tcp://${urlHost}:${again.port}` }
    }
    const c: NodeConsole = {
      uuid, server, port: (server.address() as AddressInfo).port, enabledBy: actor, clients: new Set(), line: null, closing: Promise.resolve(), scrollback: Buffer.alloc(0),
    }
    server.on("connection", onSocket(c))
    consoles.set(uuid, c)
    options.log?.(`console of ${uuid} served on tcp://${urlHost}:${c.port}`)
    return { type: "socat", url: `tcp://${urlHost}:${c.port}` }
  }

  const stop = async (uuid: string) => {
    const c = consoles.get(uuid)
    if (c === undefined) return
    consoles.delete(uuid)
    // Stop accepting first; the server's close completes once its clients are gone.
    const closed = new Promise<void>((resolve) => c.server.close(() => resolve()))
    await Promise.all([...c.clients].map((client) => detach(c, client, "\r\n[console disabled]\r\n")))
    await closed
  }

  return {
    serve,
    stop,
    info: (uuid) => {
      const c = consoles.get(uuid)
      return c === undefined ? null : { type: "socat", url: `tcp://${urlHost}:${c.port}` }
    },
    watch: async (uuid, client) => {
      const c = consoles.get(uuid)
      if (c === undefined) { client.end("\r\n[the console of this node is not enabled]\r\n"); return () => {} }
      const attached = await attach(c, client, false)
      return () => { if (attached !== null) void detach(c, attached, "") }
    },
    take: async (uuid, client) => {
      const c = consoles.get(uuid)
      if (c === undefined) { client.end("\r\n[the console of this node is not enabled]\r\n"); return null }
      // Checked and attached in one turn of the event loop, as a TCP client is: never two writers.
      const busy = holder(c)
      if (busy !== null) { client.end(`\r\n[${busy.trim()}]\r\n`); return null }
      const attached = await attach(c, client, true)
      if (attached === null) return null
      return {
        write: (chunk) => { if (c.clients.has(attached)) void c.line?.then((l) => l.write(chunk), () => {}) },
        leave: () => { void detach(c, attached, "") },
      }
    },
    close: async () => {
      await Promise.all([...consoles.keys()].map(stop))
    },
  }
}
