// ironledger verify / checkpoints: offline, on the SQLite file alone (ADR 0030). `checkpoints`
// exports the notary's checkpoints as JSON lines, to be kept away from the store; `verify` checks
// every chain of the log against them and names the first event tampered with.
import { readFileSync, writeFileSync } from "node:fs"
import * as t from "io-ts"
import { isLeft } from "fp-ts/lib/Either.js"
import { openLogReadOnly } from "../../adapters/eventstore/sqlite-reader.ts"
import { loadCheckpointChecker } from "../../adapters/system/checkpoint-keys.ts"
import { isCheckpoint, NOTARY_STREAM, type LogCheckpoint } from "../../application/notary.ts"
import { makeLogVerifier, type ReferenceEvent, type VerifyReport } from "../../application/verify-log.ts"
import { UsageError } from "../args.ts"
import { noMorePositionals, type Command } from "../command.ts"

const CheckpointLine = t.intersection([
  t.type({ position: t.number, logHash: t.string, events: t.number, at: t.string }),
  t.partial({ keyId: t.string, signature: t.string }),
])

/** Checkpoints exported by `ironledger checkpoints`: one JSON object per line. */
/** The lines of a JSON-lines file decoded with `codec`; a bad line is a usage error naming it. */
const jsonLines = <A>(text: string, file: string, codec: t.Decoder<unknown, A>, what: string): Array<A> =>
  text.split("\n").flatMap((line, i) => {
    if (line.trim() === "") return []
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      throw new UsageError(`${file}:${i + 1}: not JSON`)
    }
    const decoded = codec.decode(value)
    if (isLeft(decoded)) throw new UsageError(`${file}:${i + 1}: not ${what}`)
    return [decoded.right]
  })

export const parseCheckpoints = (text: string, file: string): Array<LogCheckpoint> =>
  jsonLines(text, file, CheckpointLine, "a checkpoint (position, logHash, events, at)")

const requireDb = (db: string | undefined, command: string) => {
  if (db === undefined) throw new UsageError(`${command} reads the log directly: --db FILE is required`)
  return db
}

const ExportLine = t.type({ position: t.number, stream_id: t.string, revision: t.number, hash: t.union([t.string, t.null]) })

/** Per-event hashes from an earlier `ironledger export --format jsonl`. */
export const parseExport = (text: string, file: string): Map<number, ReferenceEvent> =>
  new Map(jsonLines(text, file, ExportLine, "an exported event (position, stream_id, revision, hash)")
    .flatMap((e) => (e.hash === null ? [] : [[e.position, { streamId: e.stream_id, revision: e.revision, hash: e.hash }] as const])))

/** Checks the log at `db`; throws on a file that is not a log, returns the report otherwise. */
export const verifyLogFile = (db: string, checkpointsFile?: string, publicKeyFile?: string, againstFile?: string): VerifyReport => {
  const checkSignature = publicKeyFile === undefined ? undefined : loadCheckpointChecker(publicKeyFile)
  const exported = checkpointsFile === undefined ? [] : parseCheckpoints(readFileSync(checkpointsFile, "utf8"), checkpointsFile)
  const log = openLogReadOnly(db)
  try {
    const inLog = log.stream(NOTARY_STREAM).filter(isCheckpoint).map((e) => e.data as LogCheckpoint)
    const verifier = makeLogVerifier({
      checkpoints: [
        ...inLog.map((checkpoint) => ({ checkpoint, source: "in the log" })),
        ...exported.map((checkpoint) => ({ checkpoint, source: checkpointsFile! })),
      ],
      contiguousPositions: true,
      ...(checkSignature === undefined ? {} : { checkSignature }),
      ...(againstFile === undefined ? {} : { reference: { source: againstFile, events: parseExport(readFileSync(againstFile, "utf8"), againstFile) } }),
    })
    for (const event of log.events()) verifier.add(event)
    return verifier.finish()
  } finally {
    log.close()
  }
}

export class LogTampered extends Error {}

/** The notary's checkpoints in the log at `db`, as JSON lines. */
export const exportCheckpoints = (db: string): string => {
  const log = openLogReadOnly(db)
  try {
    return log.stream(NOTARY_STREAM).filter(isCheckpoint).map((e) => `${JSON.stringify(e.data)}\n`).join("")
  } finally {
    log.close()
  }
}

const verify: Command = {
  words: ["verify"],
  usage: "verify --db FILE [--checkpoints FILE] [--public-key FILE] [--against EXPORT.jsonl]",
  description: "Check the log file offline: every stream's hash chain and the notary's checkpoints; names the first event changed, removed, inserted or reordered.",
  examples: ["verify --db ironledger.db", "verify --db copy.db --checkpoints checkpoints.jsonl --public-key notary.pub --json"],
  options: { db: "string", checkpoints: "string", "public-key": "string", against: "string" },
  run: async (args, env) => {
    noMorePositionals(args, 0)
    const db = requireDb(args.strings["db"], "verify")
    const report = verifyLogFile(db, args.strings["checkpoints"], args.strings["public-key"], args.strings["against"])
    if (env.out.json) env.out.write(`${JSON.stringify(report, null, 2)}\n`)
    else {
      env.out.write(`${report.events} events in ${report.streams} streams; ${report.checkpointsMatched} checkpoint${report.checkpointsMatched === 1 ? "" : "s"} match${report.checkpointsMatched === 1 ? "es" : ""}` +
        (report.coveredUpTo > 0 ? `, the last up to position ${report.coveredUpTo}` : "") +
        (report.unhashed > 0 ? `; ${report.unhashed} events from before stream hashes, covered by checkpoints only` : "") + "\n")
      for (const f of report.findings.slice(0, 20)) env.out.write(`${f.kind}: ${f.message}\n`)
      if (report.findings.length > 20) env.out.write(`... and ${report.findings.length - 20} more\n`)
    }
    if (!report.ok) throw new LogTampered(`${db} does not verify: ${report.first!.message}`)
    if (!env.out.json) env.out.write("verified: every chain holds\n")
  },
}

const checkpoints: Command = {
  words: ["checkpoints"],
  usage: "checkpoints --db FILE [--out FILE]",
  description: "Export the notary's checkpoints of the log as JSON lines, to keep away from the store (for verify --checkpoints).",
  examples: ["checkpoints --db ironledger.db --out checkpoints.jsonl", "checkpoints --db ironledger.db --json"],
  options: { db: "string", out: "string" },
  run: async (args, env) => {
    noMorePositionals(args, 0)
    const lines = exportCheckpoints(requireDb(args.strings["db"], "checkpoints"))
    const out = args.strings["out"]
    // The checkpoints are JSON lines already; with --out, --json says what was written.
    if (out === undefined) return env.out.write(lines)
    writeFileSync(out, lines)
    const count = lines.split("\n").filter((l) => l !== "").length
    if (env.out.json) env.out.write(`${JSON.stringify({ out, checkpoints: count })}\n`)
    else env.note(`wrote ${count} checkpoint${count === 1 ? "" : "s"} to ${out}`)
  },
}

export const verifyCommands: ReadonlyArray<Command> = [verify, checkpoints]
