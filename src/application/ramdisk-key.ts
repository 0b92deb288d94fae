// A ramdisk's key, minted the same way for a deploy and for a cleaning: a random token whose
// digest is logged (to check the call-back against) and which is sealed (so any conductor can
// write it into the PXE config again); the plain key goes into that config only.
import * as Effect from "effect/Effect"
import type { Sealed } from "../domain/index.ts"
import { Ids, Secrets } from "../ports/index.ts"

export const mintRamdiskKey: Effect.Effect<{ readonly keyHash: string; readonly sealedKey: Sealed }, never, Ids | Secrets> =
  Effect.gen(function* () {
    const key = yield* (yield* Ids).token
    const secrets = yield* Secrets
    return { keyHash: yield* secrets.digest(key), sealedKey: { $sealed: yield* secrets.seal(key) } }
  })
