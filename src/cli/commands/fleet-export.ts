// ironledger fleet --at T (the fleet at an instant, through the API or from the log file) and
// ironledger export (the log streamed as JSON lines or CSV, each event with its stream hash).
import { createWriteStream } from "node:fs"
import { Readable, type Writable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { stringify } from "csv-stringify"
import { openLogReadOnly } from "../../adapters/eventstore/sqlite-reader.ts"
import { resolveOffline } from "../../application/audit.ts"
import { streamOf } from "../../application/event-codec.ts"
import { fleetAt } from "../../application/fleet-at.ts"
import type { StoredEvent } from "../../ports/index.ts"
import { UsageError } from "../args.ts"
import { enc } from "../client.ts"
import { noMorePositionals, type Command } from "../command.ts"
import { table } from "../output.ts"
import { offline } from "./audit.ts"

interface FleetDoc {
  readonly at: string
  readonly counts_by_state: Readonly<Record<string, number>>
  readonly nodes: ReadonlyArray<Record<string, unknown>>
}

const instant = (raw: string | undefined, name: string): string | undefined => {
  if (raw === undefined) return undefined
  if (Number.isNaN(Date.parse(raw))) throw new UsageError(`--${name} "${raw}" is not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)`)
  return new Date(raw).toISOString()
}

const fleet: Command = {
  words: ["fleet"],
  usage: "fleet [--at TIMESTAMP] [--db FILE]",
  description: "The fleet at an instant (now by default): node counts by state and every node's state, power, maintenance and instance.",
  examples: ["fleet", "fleet --at 2026-01-31T12:00:00Z --json", "fleet --at 2026-01-31T12:00:00Z --db ironledger.db"],
  options: { at: "string", db: "string" },
  run: async (args, env) => {
    noMorePositionals(args, 0)
    const at = instant(args.strings["at"], "at") ?? new Date().toISOString()
    const db = args.strings["db"]
    let doc: FleetDoc
    if (db !== undefined) {
      const then = await offline(db, fleetAt(at))
      doc = {
        at: then.at, counts_by_state: then.countsByState,
        nodes: then.nodes.map((n) => ({
          uuid: n.uuid, name: n.name, provision_state: n.provisionState, power_state: n.powerState,
          maintenance: n.maintenance, instance_uuid: n.instanceUuid,
        })),
      }
    } else {
      doc = await env.client().get<FleetDoc>(`/v1/fleet?at=${enc(at)}`)
    }
    if (env.out.json) return env.out.write(`${JSON.stringify(doc, null, 2)}\n`)
    const total = doc.nodes.length
    env.out.write(`The fleet at ${doc.at}: ${total} node${total === 1 ? "" : "s"}\n\n`)
    table(env.out, [["Provision state", "state"], ["Nodes", "count"]],
      Object.entries(doc.counts_by_state).map(([state, count]) => ({ state, count })))
    env.out.write("\n")
    table(env.out, [
      ["UUID", "uuid"], ["Name", "name"], ["Provision state", "provision_state"], ["Power", "power_state"],
      ["Maintenance", "maintenance"], ["Instance", "instance_uuid"],
    ], doc.nodes)
  },
}

/** One exported event; the same fields in both formats (CSV writes data as JSON text). */
export interface ExportedEvent {
  readonly position: number
  readonly stream_id: string
  readonly revision: number
  readonly type: string
  readonly schema_version: number
  readonly occurred_at: string
  readonly actor: string
  readonly correlation_id: string
  readonly causation_id: string | null
  readonly data: unknown
  readonly hash: string | null
  /** The instance the event was for, stored with it since ADR 0047; part of what the hash covers. */
  readonly instance_uuid: string | null
}

export const exportColumns = [
  "position", "stream_id", "revision", "type", "schema_version", "occurred_at", "actor", "correlation_id",
  "causation_id", "data", "hash", "instance_uuid",
] as const

const exported = (e: StoredEvent): ExportedEvent => ({
  position: e.position, stream_id: e.streamId, revision: e.revision, type: e.type, schema_version: e.schemaVersion,
  occurred_at: e.meta.occurredAt, actor: e.meta.actor, correlation_id: e.meta.correlationId,
  causation_id: e.meta.causationId, data: e.data, hash: e.hash ?? null, instance_uuid: e.meta.instanceUuid ?? null,
})

export interface ExportOptions {
  readonly format: "jsonl" | "csv"
  /** Only this stream. */
  readonly streamId?: string
  /** Only events recorded at or after this instant. */
  readonly since?: string
}

/** Streams the log at `db` into `sink` (with back-pressure), oldest first. */
export const exportLog = async (db: string, options: ExportOptions, sink: Writable): Promise<void> => {
  const log = openLogReadOnly(db)
  try {
    const since = options.since === undefined ? -Infinity : Date.parse(options.since)
    const events = function* () {
      const source = options.streamId === undefined ? log.events() : log.stream(options.streamId)
      for (const e of source) if (Date.parse(e.meta.occurredAt) >= since) yield exported(e)
    }
    if (options.format === "jsonl") {
      await pipeline(Readable.from((function* () { for (const e of events()) yield `${JSON.stringify(e)}\n` })()), sink)
    } else {
      const csv = stringify({
        header: true, columns: [...exportColumns],
        cast: { object: (value) => JSON.stringify(value) },
      })
      await pipeline(Readable.from((function* () {
        // null as an empty cell, data (any JSON) always as JSON text.
        for (const e of events()) yield { ...e, causation_id: e.causation_id ?? "", hash: e.hash ?? "", data: JSON.stringify(e.data), instance_uuid: e.instance_uuid ?? "" }
      })()), csv, sink)
    }
  } finally {
    log.close()
  }
}

const exportCommand: Command = {
  words: ["export"],
  usage: "export --db FILE --format jsonl|csv [--node NODE] [--since TIMESTAMP] [--out FILE]",
  description: "Stream the log (all of it, a node's, or since an instant) as JSON lines or CSV, each event with its hash, for other tools.",
  examples: ["export --db ironledger.db --format jsonl --out log.jsonl", "export --db ironledger.db --format csv --node rack1-07 --since 2026-01-01T00:00:00Z | head"],
  options: { db: "string", format: "string", node: "string", since: "string", out: "string" },
  run: async (args, env) => {
    noMorePositionals(args, 0)
    const db = args.strings["db"]
    if (db === undefined) throw new UsageError("export reads the log directly: --db FILE is required")
    const format = args.strings["format"] ?? "jsonl"
    // Its output is the log itself: --json is the jsonl format.
    if (env.out.json && format !== "jsonl") throw new UsageError("--json writes JSON lines: leave out --format csv, or --json")
    if (format !== "jsonl" && format !== "csv") throw new UsageError(`--format is jsonl or csv, not "${format}"`)
    const since = instant(args.strings["since"], "since")
    const node = args.strings["node"]
    const streamId = node === undefined ? undefined : streamOf(await offline(db, resolveOffline(node)))
    const out = args.strings["out"]
    try {
      await exportLog(db, { format, ...(streamId === undefined ? {} : { streamId }), ...(since === undefined ? {} : { since }) },
        out === undefined ? process.stdout : createWriteStream(out))
    } catch (e) {
      // The reader went away (`| head`): it has what it wanted.
      if ((e as NodeJS.ErrnoException).code !== "EPIPE") throw e
    }
  },
}

export const fleetExportCommands: ReadonlyArray<Command> = [fleet, exportCommand]
