// Secrets port: seals secrets before they reach the log and opens them for the adapters that need them.
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"

export class SecretUnreadable extends Data.TaggedError("SecretUnreadable")<{ readonly reason: string }> {
  override get message() { return `a sealed secret could not be opened: ${this.reason}` }
}

export class Secrets extends Context.Service<Secrets, {
  readonly seal: (plain: string) => Effect.Effect<string>
  readonly open: (sealed: string) => Effect.Effect<Redacted.Redacted<string>, SecretUnreadable>
  /** A one-way digest for values that are only ever compared (deploy keys). */
  readonly digest: (plain: string) => Effect.Effect<string>
}>()("ironledger/Secrets") {}
