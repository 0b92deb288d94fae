// One LISTEN connection per store, shared by its live subscriptions: a NOTIFY from any process's
// append wakes them. When the connection drops (server restart, network) it reconnects with a
// growing pause, and wakes every subscriber once it is back, since notifications sent meanwhile
// are lost; the subscribers' poll covers the time in between.
import pg from "pg"
import type { AppendSignal } from "./live-tail.ts"

export interface Listener {
  /** Starts listening (once); later calls do nothing. */
  readonly start: () => void
  readonly close: () => Promise<void>
  /** Whether the LISTEN is in place now (for tests and status). */
  readonly listening: () => boolean
}

export const makeListener = (config: pg.ClientConfig, channel: string, signal: AppendSignal): Listener => {
  let client: pg.Client | undefined
  let started = false
  let closed = false
  let listening = false
  let pauseMs = 100
  let timer: ReturnType<typeof setTimeout> | undefined

  const reconnectLater = () => {
    listening = false
    if (closed || timer !== undefined) return
    timer = setTimeout(() => {
      timer = undefined
      void connect()
    }, pauseMs)
    pauseMs = Math.min(pauseMs * 2, 2000)
  }

  const connect = async () => {
    if (closed) return
    const next = new pg.Client(config)
    client = next
    // A dropped connection emits "error" (unhandled, it would end the process) and then "end".
    next.on("error", () => reconnectLater())
    next.on("end", () => { if (client === next) reconnectLater() })
    next.on("notification", () => signal.notify())
    try {
      await next.connect()
      await next.query(`LISTEN ${channel}`)
      if (closed) return void next.end().catch(() => undefined)
      listening = true
      pauseMs = 100
      signal.notify()
    } catch {
      next.end().catch(() => undefined)
      if (client === next) reconnectLater()
    }
  }

  return {
    start: () => {
      if (started) return
      started = true
      void connect()
    },
    listening: () => listening,
    close: async () => {
      closed = true
      listening = false
      if (timer !== undefined) clearTimeout(timer)
      await client?.end().catch(() => undefined)
    },
  }
}

/**
 * Announces this process's appends to other processes' listeners: a NOTIFY sent after the append
 * committed, not from inside it (a transaction that notifies holds a database-wide lock through its
 * commit, which would put every append's fsync in single file). Announcements made while one is in
 * flight are coalesced into one more. It has a connection of its own, opened on first use and
 * dropped on any error (the next announcement opens a new one), and sends without waiting for a WAL
 * flush: a lost NOTIFY costs another process's subscriber one poll interval, never an event.
 */
export const makeNotifier = (config: pg.ClientConfig, channel: string) => {
  let client: Promise<pg.Client> | undefined
  let inFlight = false
  let again = false
  let closed = false

  const connection = () =>
    client ??= (async () => {
      const next = new pg.Client(config)
      next.on("error", () => { client = undefined })
      next.on("end", () => { client = undefined })
      await next.connect()
      return next
    })()

  const send = async () => {
    try {
      const c = await connection()
      await c.query("SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, '')", [channel])
    } catch {
      const broken = client
      client = undefined
      broken?.then((c) => c.end()).catch(() => undefined)
    }
  }

  const announce = (): void => {
    if (closed) return
    if (inFlight) {
      again = true
      return
    }
    inFlight = true
    void send().finally(() => {
      inFlight = false
      if (again) {
        again = false
        announce()
      }
    })
  }

  return {
    announce,
    close: async () => {
      closed = true
      await client?.then((c) => c.end()).catch(() => undefined)
    },
  }
}
