// Random UUIDs and tokens from the platform's CSPRNG.
import { randomBytes, randomUUID } from "node:crypto"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Ids } from "../../ports/index.ts"

export const RandomIds = Layer.succeed(Ids, {
  uuid: Effect.sync(() => randomUUID()),
  token: Effect.sync(() => randomBytes(32).toString("base64url")),
})
