// An appender process for the PostgreSQL ordering property (postgres-order.test.ts): one per
// simulated conductor host. Reads one JSON plan per stdin line, carries its appends out all at once,
// answers one JSON line. Plain appends go through the adapter; "slow" ones run the same append
// function inside a transaction held open a while before COMMIT (a commit that lands late), and
// "rollback" ones are undone after the same pause (must never be seen).
//   usage: postgres-appender.child.ts <postgres-url> <name>
import { eventBody } from "../../src/application/hash-chain.ts"
import { createInterface } from "node:readline"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import pg from "pg"
import { makePostgresEventStore } from "../../src/adapters/eventstore/postgres.ts"
import { EventStore, type NewEvent } from "../../src/ports/event-store.ts"

export interface AppendOp {
  readonly stream: string
  readonly events: number
  readonly kind: "plain" | "expected" | "slow" | "rollback"
  readonly pauseMs: number
  readonly holdMs: number
}
export interface Plan { readonly run: number; readonly schema: string; readonly ops: ReadonlyArray<AppendOp> }
/** What one op became: its events' tags if they were committed, else why not. */
export interface OpOutcome { readonly op: number; readonly committed: boolean; readonly tags: ReadonlyArray<string> }

const [url, name] = process.argv.slice(2)
if (url === undefined || name === undefined) {
  process.stderr.write("usage: postgres-appender.child.ts <postgres-url> <name>\n")
  process.exit(2)
}

const eventsOf = (run: number, op: number, n: number): Array<NewEvent> =>
  Array.from({ length: n }, (_, i) => ({
    type: "StepDone", schemaVersion: 1, data: { tag: `${name}/${run}/${op}/${i}` },
    meta: { occurredAt: new Date().toISOString(), actor: name, correlationId: `${run}`, causationId: null },
  }))

const slowAppend = async (schema: string, stream: string, events: ReadonlyArray<NewEvent>, holdMs: number, commit: boolean) => {
  const client = new pg.Client(url)
  await client.connect()
  try {
    await client.query("BEGIN")
    const { rows } = await client.query(`SELECT ok FROM ${schema}.append($1, -2, $2, $3, $4, $5, $6)`, [
      stream, events.map((e) => e.type), events.map((e) => e.schemaVersion),
      events.map((e) => JSON.stringify(e.data)), events.map((e) => JSON.stringify(e.meta)),
      events.map((e) => eventBody({ streamId: stream, ...e })),
    ])
    await client.query("SELECT pg_sleep($1)", [holdMs / 1000])
    await client.query(commit ? "COMMIT" : "ROLLBACK")
    return rows[0].ok === true && commit
  } finally {
    await client.end()
  }
}

// One store at a time: a plan on another schema closes the previous one (and its connections).
let current: { readonly schema: string; readonly scope: Scope.Closeable; readonly store: EventStore["Service"] } | undefined
const storeFor = async (schema: string) => {
  if (current?.schema === schema) return current.store
  if (current !== undefined) await Effect.runPromise(Scope.close(current.scope, Exit.void))
  const scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(makePostgresEventStore(url, { schema, poolSize: 4 }), scope))
  current = { schema, scope, store: Context.get(context, EventStore) }
  return current.store
}

const carryOut = async (plan: Plan): Promise<Array<OpOutcome>> => {
  const store = await storeFor(plan.schema)
  return Promise.all(plan.ops.map(async (op, i): Promise<OpOutcome> => {
    await new Promise((resolve) => setTimeout(resolve, op.pauseMs))
    const events = eventsOf(plan.run, i, op.events)
    const tags = events.map((e) => (e.data as { tag: string }).tag)
    if (op.kind === "slow" || op.kind === "rollback") {
      return { op: i, committed: await slowAppend(plan.schema, op.stream, events, op.holdMs, op.kind === "slow"), tags }
    }
    const appended = await Effect.runPromise(Effect.result(Effect.gen(function* () {
      if (op.kind === "plain") return yield* store.append(op.stream, events, "any")
      // Read, then append at what was read: may lose to another host, as a conductor may.
      const current = yield* store.readStream(op.stream)
      return yield* store.append(op.stream, events, current.length === 0 ? "no_stream" : current.length - 1)
    })))
    if (appended._tag === "Failure" && appended.failure._tag !== "WrongExpectedRevision") throw appended.failure
    return { op: i, committed: appended._tag === "Success", tags }
  }))
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const plan = JSON.parse(line) as Plan
  carryOut(plan).then(
    (outcomes) => process.stdout.write(`${JSON.stringify({ run: plan.run, outcomes })}\n`),
    (error) => process.stdout.write(`${JSON.stringify({ run: plan.run, error: String(error) })}\n`),
  )
}).on("close", () => { void (current ? Effect.runPromise(Scope.close(current.scope, Exit.void)) : Promise.resolve()).then(() => process.exit(0)) })
process.stdout.write(`${JSON.stringify({ ready: name })}\n`)
