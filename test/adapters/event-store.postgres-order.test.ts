// The PostgreSQL store's global order under concurrent appenders on several processes: whatever the
// interleaving (plain appends, appends at a read revision that may lose, transactions that commit
// late, transactions rolled back), every subscriber sees exactly the committed events, each once,
// in one order that is the same for all of them, with every stream's revisions consecutive in it.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { spawn, type ChildProcess } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import fc from "fast-check"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { makePostgresEventStore } from "../../src/adapters/eventstore/postgres.ts"
import { EventStore, type StoredEvent } from "../../src/ports/event-store.ts"
import { postgresUnavailable, startPostgres, type PostgresServer } from "../support/postgres-server.ts"
import type { AppendOp, OpOutcome, Plan } from "./postgres-appender.child.ts"

const CHILD = fileURLToPath(new URL("./postgres-appender.child.ts", import.meta.url))
const HOSTS = 3
const skip = postgresUnavailable()

interface Appender {
  readonly process: ChildProcess
  readonly ask: (plan: Plan) => Promise<ReadonlyArray<OpOutcome>>
}

const startAppender = (url: string, name: string): Promise<Appender> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, url, name], { stdio: ["pipe", "pipe", "inherit"] })
    const waiting = new Map<number, (line: { outcomes?: ReadonlyArray<OpOutcome>; error?: string }) => void>()
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const message = JSON.parse(line) as { ready?: string; run?: number; outcomes?: ReadonlyArray<OpOutcome>; error?: string }
      if (message.ready !== undefined) {
        resolve({
          process: child,
          ask: (plan) => new Promise((done, fail) => {
            waiting.set(plan.run, (answer) => (answer.outcomes ? done(answer.outcomes) : fail(new Error(answer.error))))
            child.stdin!.write(`${JSON.stringify(plan)}\n`)
          }),
        })
      } else waiting.get(message.run!)?.(message)
    })
    child.once("exit", (code) => reject(new Error(`appender ${name} exited (${code})`)))
  })

let server: PostgresServer | undefined
let appenders: Array<Appender> = []
before(async () => {
  if (skip !== undefined) return
  server = await startPostgres()
  appenders = await Promise.all(Array.from({ length: HOSTS }, (_, i) => startAppender(server!.url, `host-${i}`)))
})
after(async () => {
  for (const a of appenders) a.process.kill("SIGKILL")
  await server?.destroy()
})

const opArb: fc.Arbitrary<AppendOp> = fc.record({
  stream: fc.constantFrom("node-a", "node-b", "node-c"),
  events: fc.integer({ min: 1, max: 3 }),
  kind: fc.constantFrom("plain", "plain", "expected", "slow", "rollback"),
  pauseMs: fc.integer({ min: 0, max: 40 }),
  holdMs: fc.integer({ min: 0, max: 60 }),
})

const tagOf = (e: StoredEvent) => (e.data as { tag: string }).tag

/** Follows the store from `after` into `seen` until interrupted. */
const follow = (store: EventStore["Service"], afterPosition: number, seen: Array<StoredEvent>) =>
  Effect.runFork(store.subscribeAll(afterPosition).pipe(Stream.runForEach((e) => Effect.sync(() => { seen.push(e) }))))

const until = async (what: string, done: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

let runs = 0

describe("PostgreSQL store: global order with appenders on several processes", { skip, timeout: 120_000 }, () => {
  test("no subscriber misses, repeats or reorders an event, whatever commits late or rolls back", () =>
    fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(opArb, { minLength: 1, maxLength: 12 }), { minLength: HOSTS, maxLength: HOSTS }),
        fc.integer({ min: 0, max: 60 }),
        async (plans, joinAfterMs) => {
          const run = ++runs
          const schema = `order_${run}`
          const scope = Effect.runSync(Scope.make())
          const fibers: Array<Fiber.Fiber<void, unknown>> = []
          try {
            // Small pages: catching up crosses many page boundaries while appends keep landing.
            const context = await Effect.runPromise(Layer.buildWithScope(makePostgresEventStore(server!.url, { schema, pageSize: 3, pollIntervalMs: 50 }), scope))
            const store = Context.get(context, EventStore)
            const live: Array<StoredEvent> = []
            const first = follow(store, -1, live)
            fibers.push(first)
            const answers = Promise.all(appenders.map((a, i) => a.ask({ run, schema, ops: plans[i]! })))
            // A second subscriber joins mid-run from wherever the first one has got to.
            await new Promise((resolve) => setTimeout(resolve, joinAfterMs))
            const joinedAt = live.length
            const joinFrom = joinedAt === 0 ? -1 : live[joinedAt - 1]!.position
            const late: Array<StoredEvent> = []
            const second = follow(store, joinFrom, late)
            fibers.push(second)
            const outcomes = (await answers).flat()

            const committed = new Set(outcomes.filter((o) => o.committed).flatMap((o) => o.tags))
            const dropped = new Set(outcomes.filter((o) => !o.committed).flatMap((o) => o.tags))
            await until(`${committed.size} events at both subscribers`, () => live.length >= committed.size && joinedAt + late.length >= committed.size)
            await new Promise((resolve) => setTimeout(resolve, 120)) // anything extra would show up now
            for (const fiber of fibers.splice(0)) await Effect.runPromise(Fiber.interrupt(fiber))

            const stored = await Effect.runPromise(store.readAll())
            assert.deepEqual(live.map(tagOf), stored.map(tagOf), "the live subscriber saw the log, in its order")
            assert.deepEqual(late.map(tagOf), live.slice(joinedAt).map(tagOf), "the joining subscriber saw the same order from its start")
            assert.deepEqual(new Set(live.map(tagOf)), committed, "exactly the committed events")
            assert.equal(live.length, committed.size, "each event once")
            for (const tag of dropped) assert.ok(!committed.has(tag))
            assert.ok(live.every((e, i) => i === 0 || e.position > live[i - 1]!.position), "positions strictly increase")
            const revisions = new Map<string, number>()
            for (const e of live) {
              assert.equal(e.revision, (revisions.get(e.streamId) ?? -1) + 1, `${e.streamId}: revisions follow on in the global order`)
              revisions.set(e.streamId, e.revision)
            }
          } finally {
            for (const fiber of fibers) await Effect.runPromise(Fiber.interrupt(fiber))
            await Effect.runPromise(Scope.close(scope, Exit.void))
          }
        },
      ),
      // Each run takes about a second: report the first failing plan rather than shrink it for minutes.
      { numRuns: 15, endOnFailure: true },
    ))
})
