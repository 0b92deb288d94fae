// ironledger history NODE, state NODE --at TS, replay. With --db FILE they read the SQLite log
// directly through the application's audit functions (no server needed); otherwise they ask the API.
import { printInstanceHistory } from "./instance.ts"
import { existsSync } from "node:fs"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Cause from "effect/Cause"
import * as Option from "effect/Option"
import type * as Layer from "effect/Layer"
import { historyOfRef, replay, stateAtOfRef } from "../../application/audit.ts"
import type { HistoryEntry, NodeView } from "../../application/node-service.ts"
import type { CheckpointStore, EventStore } from "../../ports/index.ts"
import { UsageError } from "../args.ts"
import { ApiError, enc } from "../client.ts"
import { noMorePositionals, positional, type Command } from "../command.ts"
import { record, table } from "../output.ts"
import { collect } from "./nodes.ts"
import { historyMatcher } from "../../application/history-filter.ts"
import { historyFilterOfArgs, historyFilterOptions, historyQuery } from "./history-filter.ts"
import { parseStoreAddress, storeLayer } from "../store.ts"

interface Row {
  readonly at: string
  readonly revision: number
  readonly type: string
  readonly actor: string
  readonly state: string
  readonly duration: string
  readonly summary: string
}

const columns = [
  ["Time", "at"], ["Rev", "revision"], ["Event", "type"], ["Actor", "actor"], ["State", "state"],
  ["Duration", "duration"], ["What happened", "summary"],
] as const

const duration = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? "" : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`

/** Runs an audit Effect on a store (a SQLite file or postgres://...); typed errors become CLI errors. */
export const offline = async <A, E>(db: string, effect: Effect.Effect<A, E, EventStore | CheckpointStore>): Promise<A> => {
  const address = parseStoreAddress(db)
  if (address.kind === "sqlite" && !existsSync(address.path)) throw new UsageError(`${db} does not exist`)
  const layer: Layer.Layer<EventStore | CheckpointStore, unknown> = storeLayer(address)
  const exit = await Effect.runPromiseExit(Effect.provide(effect, layer))
  if (Exit.isSuccess(exit)) return exit.value
  const error = Cause.findErrorOption(exit.cause)
  throw new ApiError(0, Option.isSome(error) ? String((error.value as Error).message ?? error.value) : Cause.pretty(exit.cause))
}

const fromEntry = (e: HistoryEntry): Row => ({
  at: e.occurredAt, revision: e.revision, type: e.event, actor: e.actor, state: e.provisionState,
  duration: duration(e.durationMs), summary: e.summary,
})

const fromApi = (d: Record<string, unknown>): Row => ({
  at: String(d["created_at"]), revision: Number(d["revision"]), type: String(d["type"]), actor: String(d["actor"]),
  state: String(d["provision_state"]), duration: duration(d["duration_ms"] as number | null), summary: String(d["event"]),
})

const history: Command = {
  words: ["history"],
  usage: "history NODE [--since T] [--until T] [--type TYPE]... [--actor A] [--hide-noise] [--db FILE | --db postgres://...] | history --instance UUID",
  description: "A node's history: every event with when, who, the state it left and how long the step took; through the API, or from the log file with --db.",
  examples: ["history --instance 5f0c1d5e-8a31-4c55-9a43-77c2f0a1b2c3", "history rack1-07", "history rack1-07 --since 2026-01-31T00:00:00Z --type DeployDone,DeployFailed", "history rack1-07 --db ironledger.db --hide-noise --json"],
  options: { db: "string", instance: "string", ...historyFilterOptions },
  run: async (args, env) => {
    // An instance's life across the nodes it lived on.
    if (args.strings["instance"] !== undefined) return printInstanceHistory(env, args.strings["instance"])
    const node = positional(args, 0, "NODE")
    noMorePositionals(args, 1)
    const db = args.strings["db"]
    const filter = historyFilterOfArgs(args)
    if (db !== undefined) {
      const entries = (await offline(db, historyOfRef(node))).filter(historyMatcher(filter))
      if (env.out.json) return env.out.write(`${JSON.stringify(entries, null, 2)}\n`)
      return table(env.out, columns, entries.map(fromEntry))
    }
    const docs = await collect(env, `/v1/nodes/${enc(node)}/history/detail`, historyQuery(filter), "history", Infinity)
    if (env.out.json) return env.out.write(`${JSON.stringify(docs, null, 2)}\n`)
    table(env.out, columns, docs.map(fromApi))
  },
}

const stateColumns = [
  "uuid", "name", "driver", "provision_state", "target_provision_state", "power_state", "maintenance",
  "last_error", "instance_uuid", "updated_at",
]

const state: Command = {
  words: ["state"],
  usage: "state NODE --at TIMESTAMP [--db FILE | --db postgres://...]",
  description: "A node as it was at an instant, folded from its history.",
  examples: ["state rack1-07 --at 2026-01-31T12:00:00Z", "state rack1-07 --at 2026-01-31T12:00:00Z --db ironledger.db --json"],
  options: { at: "string", db: "string" },
  run: async (args, env) => {
    const node = positional(args, 0, "NODE")
    noMorePositionals(args, 1)
    const at = args.strings["at"]
    if (at === undefined) throw new UsageError("--at TIMESTAMP is required (ISO 8601, e.g. 2026-01-31T12:00:00Z)")
    const db = args.strings["db"]
    if (db !== undefined) {
      if (Number.isNaN(Date.parse(at))) throw new UsageError(`--at "${at}" is not an ISO 8601 time`)
      const view: NodeView = await offline(db, stateAtOfRef(node, new Date(at).toISOString()))
      if (env.out.json) return env.out.write(`${JSON.stringify(view, null, 2)}\n`)
      return record(env.out, {
        uuid: view.uuid, name: view.name, driver: view.driver, provision_state: view.provisionState,
        target_provision_state: view.targetProvisionState, power_state: view.powerState, maintenance: view.maintenance,
        last_error: view.lastError, instance_uuid: view.instanceUuid, updated_at: view.updatedAt,
        ports: view.ports.map((p) => p.address).join(" "),
      }, [])
    }
    const then = await env.client().get<{ node: Record<string, unknown> }>(`/v1/nodes/${enc(node)}/history?at=${enc(at)}`)
    if (env.out.json) return env.out.write(`${JSON.stringify(then.node, null, 2)}\n`)
    record(env.out, Object.fromEntries(stateColumns.map((k) => [k, then.node[k]])), [])
  },
}

const replayCommand: Command = {
  words: ["replay"],
  usage: "replay --db FILE|postgres://...",
  description: "Replay the whole log from the file (no service) and count the nodes by state: a check that every event still folds.",
  examples: ["replay --db ironledger.db", "replay --db postgres://ironledger@db/ironledger --json"],
  options: { db: "string" },
  run: async (args, env) => {
    noMorePositionals(args, 0)
    const db = args.strings["db"]
    if (db === undefined) throw new UsageError("replay reads the log directly: --db FILE (or a postgres:// URL) is required")
    const report = await offline(db, replay)
    if (env.out.json) return env.out.write(`${JSON.stringify(report, null, 2)}\n`)
    env.out.write(`replayed ${report.events} events of ${report.nodes} nodes in ${report.seconds.toFixed(3)} s (${report.eventsPerSecond} events/s)\n`)
    table(env.out, [["Provision state", "state"], ["Nodes", "count"]],
      Object.entries(report.countsByState).map(([s, count]) => ({ state: s, count })))
  },
}

export const auditCommands: ReadonlyArray<Command> = [history, state, replayCommand]
