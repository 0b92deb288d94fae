// Shared by the multi-process conductor tests: `ironledger serve` (API only) and `ironledger
// conductor` processes on one SQLite file, each in its own process group so that a test can kill
// it and everything it started; an HTTP client for the API; and an audit of leases read back from
// the event log with the EventStore adapter.
import { spawn, type ChildProcess } from "node:child_process"
import { join, resolve } from "node:path"
import * as Effect from "effect/Effect"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { EventStore, type StoredEvent } from "../../src/ports/index.ts"
import { DIE_AFTER_EVENT } from "../support/crashing-conductor.ts"

const root = resolve(import.meta.dirname, "../..")
const ironledger = join(root, "bin/ironledger")
const crashingConductor = join(root, "test/support/crashing-conductor.ts")

export interface Proc {
  readonly label: string
  readonly child: ChildProcess
  /** stdout and stderr so far, for failure messages. */
  readonly output: () => string
  /** Resolves with the exit code, or the signal that ended it. */
  readonly exited: Promise<number | string>
}

const running = new Set<Proc>()

export const spawnIronledger = (label: string, args: ReadonlyArray<string>, env: Record<string, string> = {}, program: ReadonlyArray<string> = [ironledger]): Proc => {
  // detached: a process group of its own, so the whole group can be signalled.
  const [file, ...before] = program
  const child = spawn(file!, [...before, ...args], { detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } })
  let output = ""
  child.stdout!.on("data", (d: Buffer) => { output += d.toString() })
  child.stderr!.on("data", (d: Buffer) => { output += d.toString() })
  const exited = new Promise<number | string>((r) => child.once("exit", (code, signal) => r(code ?? signal ?? "?")))
  const proc: Proc = { label, child, output: () => output, exited }
  running.add(proc)
  void exited.then(() => running.delete(proc))
  return proc
}

const isRunning = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null

const signalGroup = (p: Proc, signal: NodeJS.Signals) => {
  try { process.kill(-p.child.pid!, signal) } catch { /* already gone */ }
}

/** SIGKILL to the process group: a crash, nothing cleaned up. Resolves once it is gone. */
export const crash = async (p: Proc) => {
  signalGroup(p, "SIGKILL")
  await p.exited
}

/** SIGTERM, then SIGKILL after `graceMs`; the group is killed either way. */
export const stop = async (p: Proc, graceMs = 10_000) => {
  if (isRunning(p)) {
    signalGroup(p, "SIGTERM")
    const timer = setTimeout(() => signalGroup(p, "SIGKILL"), graceMs)
    await p.exited
    clearTimeout(timer)
  }
  signalGroup(p, "SIGKILL") // anything the process left in its group
}

/** Stops every process these helpers started (test teardown, also after a failure). */
export const stopAll = async () => { await Promise.all([...running].map((p) => stop(p))) }

/** Waits for a line of output matching `pattern`; fails if the process exits or `ms` pass first. */
export const waitForOutput = (p: Proc, pattern: RegExp, ms = 30_000): Promise<RegExpExecArray> =>
  new Promise((resolveMatch, reject) => {
    const check = () => {
      const m = pattern.exec(p.output())
      if (m !== null) { done(); resolveMatch(m) }
    }
    const onData = () => check()
    const onExit = () => { done(); reject(new Error(`${p.label} exited before ${pattern}: ${p.output()}`)) }
    const timer = setTimeout(() => { done(); reject(new Error(`${p.label}: no ${pattern} within ${ms} ms: ${p.output()}`)) }, ms)
    const done = () => {
      clearTimeout(timer)
      p.child.stdout!.off("data", onData)
      p.child.stderr!.off("data", onData)
      p.child.off("exit", onExit)
    }
    p.child.stdout!.on("data", onData)
    p.child.stderr!.on("data", onData)
    p.child.once("exit", onExit)
    check()
  })

/** The API process, its own conductor off: the conductor processes do all the driving. */
export const startApi = async (db: string): Promise<{ proc: Proc; url: string }> => {
  const proc = spawnIronledger("serve", ["serve", "--db", db, "--port", "0", "--host", "127.0.0.1", "--no-conductor"])
  const m = await waitForOutput(proc, /listening on (http:\/\/127\.0\.0\.1:\d+)/)
  return { proc, url: m[1]! }
}

export interface ConductorOptions {
  readonly leaseTtlMs?: number
  readonly sweepMs?: number
  readonly callbackTimeoutS?: number
  readonly env?: Record<string, string>
}

export const startConductor = async (db: string, name: string, apiUrl: string, options: ConductorOptions = {}): Promise<Proc> => {
  const args = [
    "--db", db, "--name", name, "--api-url", apiUrl,
    "--lease-ttl", String(options.leaseTtlMs ?? 5000), "--sweep", String(options.sweepMs ?? 250),
    ...(options.callbackTimeoutS === undefined ? [] : ["--deploy-callback-timeout", String(options.callbackTimeoutS)]),
  ]
  // A conductor told to crash on cue is the test's own entry point around the same conductor.
  const proc = options.env?.[DIE_AFTER_EVENT] !== undefined
    ? spawnIronledger(`conductor ${name}`, args, options.env, [process.execPath, crashingConductor])
    : spawnIronledger(`conductor ${name}`, ["conductor", ...args], options.env)
  await waitForOutput(proc, new RegExp(`conductor ${name} driving nodes`))
  return proc
}

// --- the API ---

export type Json = Record<string, unknown>

/** One HTTP exchange; by default this process's fetch (a multi-host test sends from a namespace). */
export type Send = (method: string, url: string, body?: string, headers?: Record<string, string>) => Promise<{ status: number; text: string }>

const fetchHere: Send = async (method, url, body, headers) => {
  const res = await fetch(url, { method, headers: headers ?? {}, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(10_000) })
  return { status: res.status, text: await res.text() }
}

export const makeApi = (url: string, send: Send = fetchHere) => {
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const headers = { "X-OpenStack-Ironic-API-Version": "1.78", ...(body === undefined ? {} : { "content-type": "application/json" }) }
    const res = await send(method, `${url}${path}`, body === undefined ? undefined : JSON.stringify(body), headers)
    return { status: res.status, body: res.text === "" ? {} : JSON.parse(res.text) as Json }
  }
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, path, body)
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`)
    return r.body
  }
  const node = (uuid: string) => ok("GET", `/v1/nodes/${uuid}`)
  return {
    call, ok, node,
    /** Enrolls a sim node with one port; returns its uuid. */
    enroll: async (name: string, mac: string) => {
      const n = await ok("POST", "/v1/nodes", { name, driver: "sim", properties: { local_gb: 10 } })
      await ok("POST", "/v1/ports", { node_uuid: n["uuid"], address: mac })
      return n["uuid"] as string
    },
    provision: (uuid: string, target: string) => ok("PUT", `/v1/nodes/${uuid}/states/provision`, { target }),
    history: async (uuid: string) => (await ok("GET", `/v1/nodes/${uuid}/history`))["history"] as Array<Json>,
    /** Polls until every node is in one of `states` with nothing pending; fails after `ms` naming the laggards. */
    settle: async (uuids: ReadonlyArray<string>, states: ReadonlyArray<string>, ms: number) => {
      const deadline = Date.now() + ms
      for (;;) {
        const nodes = await Promise.all(uuids.map(node))
        const lagging = nodes.filter((n) => !states.includes(n["provision_state"] as string) || n["target_provision_state"] !== null)
        if (lagging.length === 0) return nodes
        if (Date.now() > deadline) {
          throw new Error(`after ${ms} ms, not in ${states.join("/")}: ${lagging.map((n) => `${n["name"]}=${n["provision_state"]} (${n["last_error"]})`).join(", ")}`)
        }
        await new Promise((r) => setTimeout(r, 100))
      }
    },
  }
}

export const mac = (i: number) => `52:54:00:c0:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`

// --- the log ---

/** Every event of the SQLite file, read through the EventStore adapter (another process may be writing). */
export const readLog = (db: string): Promise<ReadonlyArray<StoredEvent>> =>
  Effect.runPromise(Effect.provide(Effect.gen(function* () { return yield* (yield* EventStore).readAll() }), makeSqliteEventStore(db)))

/** The node streams of the log, each in revision order. */
export const byStream = (events: ReadonlyArray<StoredEvent>): Map<string, Array<StoredEvent>> => {
  const streams = new Map<string, Array<StoredEvent>>()
  for (const e of events) {
    if (!e.streamId.startsWith("node-")) continue
    const list = streams.get(e.streamId) ?? streams.set(e.streamId, []).get(e.streamId)!
    list.push(e)
  }
  for (const list of streams.values()) list.sort((a, b) => a.revision - b.revision)
  return streams
}

/** Hardware requests of a stream without a result, as "type step". */
export const unanswered = (stream: ReadonlyArray<StoredEvent>): Array<string> => {
  const open = new Map<string, string>()
  for (const e of stream) {
    const step = (e.data as { step?: unknown }).step
    if (typeof step !== "string") continue
    if (e.type.endsWith("Requested")) open.set(step, e.type)
    else open.delete(step)
  }
  return [...open].map(([step, type]) => `${type} ${step}`)
}

/**
 * Steps asked for more than once in a stream. A step is asked for once, then carried out (again,
 * after a crash) until it has a result: a second request means a conductor acted on a stale plan.
 */
export const repeatedRequests = (stream: ReadonlyArray<StoredEvent>): Array<string> => {
  const seen = new Set<string>()
  const repeated: Array<string> = []
  for (const e of stream) {
    const step = (e.data as { step?: unknown }).step
    if (typeof step !== "string" || !e.type.endsWith("Requested")) continue
    if (seen.has(step)) repeated.push(`${e.type} ${step} again at revision ${e.revision} by ${e.meta.actor}`)
    seen.add(step)
  }
  return repeated
}

/** Actors of the API process: users and ramdisks. Every other actor is a conductor. */
const isApiActor = (actor: string) => actor === "ramdisk" || actor.startsWith("user:")

export interface LeaseAudit {
  /** Each breach of "one conductor at a time, and only under its lease", described. */
  readonly violations: ReadonlyArray<string>
  /** Events each conductor recorded under its leases (lease events aside). */
  readonly workBy: ReadonlyMap<string, number>
  /** Per stream, the conductors that recorded work in it. */
  readonly driversOf: ReadonlyMap<string, ReadonlySet<string>>
}

/**
 * Replays each node's stream and checks: a conductor takes a lease only when none is held or the
 * holder's ran out; it releases only its own; every other event a conductor recorded lies inside a
 * lease that conductor held (so between X's LeaseAcquired and its expiry or release, no other
 * conductor's event appears).
 */
export const auditLeases = (events: ReadonlyArray<StoredEvent>): LeaseAudit => {
  const violations: Array<string> = []
  const workBy = new Map<string, number>()
  const driversOf = new Map<string, Set<string>>()
  for (const [stream, list] of byStream(events)) {
    let lease: { holder: string; expiresAt: number } | null = null
    for (const e of list) {
      const actor = e.meta.actor
      const at = Date.parse(e.meta.occurredAt)
      const where = `${stream}@${e.revision} ${e.type} by ${actor} at ${e.meta.occurredAt}`
      if (e.type === "LeaseAcquired") {
        const data = e.data as { holder: string; expiresAt: string }
        if (data.holder !== actor || isApiActor(actor)) violations.push(`${where}: lease taken for ${data.holder}`)
        if (lease !== null && lease.holder !== data.holder && at < lease.expiresAt) {
          violations.push(`${where}: taken while ${lease.holder} held it until ${new Date(lease.expiresAt).toISOString()}`)
        }
        lease = { holder: data.holder, expiresAt: Date.parse(data.expiresAt) }
      } else if (e.type === "LeaseReleased") {
        if (lease?.holder !== actor) violations.push(`${where}: released a lease held by ${lease?.holder ?? "nobody"}`)
        lease = null
      } else if (!isApiActor(actor)) {
        if (lease === null || lease.holder !== actor || at >= lease.expiresAt) {
          violations.push(`${where}: outside its lease (lease: ${lease === null ? "none" : `${lease.holder} until ${new Date(lease.expiresAt).toISOString()}`})`)
        }
        workBy.set(actor, (workBy.get(actor) ?? 0) + 1)
        const drivers = driversOf.get(stream) ?? driversOf.set(stream, new Set()).get(stream)!
        drivers.add(actor)
      }
    }
  }
  return { violations, workBy, driversOf }
}
