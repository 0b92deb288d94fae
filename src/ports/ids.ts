// Ids port: identifiers and unguessable tokens.
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"

export class Ids extends Context.Service<Ids, {
  readonly uuid: Effect.Effect<string>
  /** A random token for secrets such as deploy keys: 32 bytes, URL-safe base64. */
  readonly token: Effect.Effect<string>
}>()("ironledger/Ids") {}
