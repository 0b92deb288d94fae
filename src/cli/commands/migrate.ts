// ironledger migrate --from STORE --to STORE: copies a log to another store (typically the SQLite
// file to PostgreSQL) and verifies the copy, event by event. Run it with no service writing to
// either store. Checkpoints are not copied: projections rebuild theirs from the copied log.
import { existsSync } from "node:fs"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import { copyLog, CopyMismatch } from "../../application/copy-log.ts"
import { EventStore } from "../../ports/index.ts"
import { UsageError } from "../args.ts"
import { ApiError } from "../client.ts"
import { noMorePositionals, type Command } from "../command.ts"
import { describeStore, parseStoreAddress, storeLayer, type StoreAddress } from "../store.ts"

const open = async (address: StoreAddress, scope: Scope.Scope) =>
  Context.get(await Effect.runPromise(Layer.buildWithScope(storeLayer(address), scope)), EventStore)

export const migrateCommand: Command = {
  words: ["migrate"],
  usage: "migrate --from sqlite:FILE|postgres://... --to sqlite:FILE|postgres://...",
  description: "Copy the log to another store (typically SQLite to PostgreSQL) and verify the copy event by event; run it with no service writing.",
  examples: ["migrate --from sqlite:ironledger.db --to postgres://ironledger@db/ironledger"],
  options: { from: "string", to: "string" },
  run: async (args, env) => {
    noMorePositionals(args, 0)
    const fromRaw = args.strings["from"]
    const toRaw = args.strings["to"]
    if (fromRaw === undefined || toRaw === undefined) throw new UsageError("--from and --to are both required")
    const from = parseStoreAddress(fromRaw)
    const to = parseStoreAddress(toRaw)
    // Opening a SQLite file creates it: a mistyped source must not become an empty log.
    if (from.kind === "sqlite" && !existsSync(from.path)) throw new UsageError(`${from.path} does not exist`)
    if (describeStore(from) === describeStore(to)) throw new UsageError("--from and --to name the same store")
    const scope = Effect.runSync(Scope.make())
    try {
      const source = await open(from, scope)
      const target = await open(to, scope)
      env.note(`copying ${describeStore(from)} to ${describeStore(to)}`)
      const exit = await Effect.runPromiseExit(copyLog(source, target, (n) => { if (env.isTty) env.note(`  ${n} events copied`) }))
      if (Exit.isFailure(exit)) {
        const error = Cause.findErrorOption(exit.cause)
        const message = Option.isSome(error) ? (error.value as Error).message : Cause.pretty(exit.cause)
        throw new ApiError(0, error.pipe(Option.exists((e) => e instanceof CopyMismatch)) ? `copy refused: ${message}` : message)
      }
      const report = exit.value
      if (env.out.json) return env.out.write(`${JSON.stringify(report, null, 2)}\n`)
      env.out.write(
        `copied ${report.copied} events${report.alreadyThere > 0 ? ` (${report.alreadyThere} were there already)` : ""}, ` +
          `verified ${report.verified} events equal and in order, in ${report.seconds.toFixed(1)} s\n`,
      )
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  },
}
