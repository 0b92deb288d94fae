// The notary as the service runs it: a fiber beside the API, and one last checkpoint on the way out.
import { Effect, Fiber } from "effect"
import { loadCheckpointSigner } from "../adapters/system/checkpoint-keys.ts"
import { defaultNotaryConfig, makeNotary } from "../application/notary.ts"
import { checkpointStatement } from "../domain/hash-chain.ts"
import type { Clock, EventStore } from "../ports/index.ts"

export interface NotaryOptions {
  /** Ed25519 private key (PEM) signing every checkpoint. */
  readonly signingKeyFile?: string
  readonly intervalMs?: number
  readonly every?: number
}

/** Starts the notary on the runtime; the function returned stops it after a final checkpoint. */
/** What the notary needs of the service's runtime (a ManagedRuntime whose layer gives the store and clock). */
export interface NotaryRuntime {
  readonly runFork: <A, E>(effect: Effect.Effect<A, E, EventStore | Clock>) => Fiber.Fiber<A, unknown>
  readonly runPromise: <A, E>(effect: Effect.Effect<A, E, EventStore | Clock>) => Promise<A>
}

export const startNotary = (
  runtime: NotaryRuntime,
  options: NotaryOptions,
): (() => Promise<void>) => {
  const notary = makeNotary({
    every: options.every ?? defaultNotaryConfig.every,
    intervalMs: options.intervalMs ?? defaultNotaryConfig.intervalMs,
    signer: options.signingKeyFile === undefined ? undefined : loadCheckpointSigner(options.signingKeyFile),
    statement: checkpointStatement,
  })
  const fiber = runtime.runFork(notary.run)
  return async () => {
    await runtime.runPromise(Fiber.interrupt(fiber))
    await runtime.runPromise(Effect.ignore(notary.tick))
  }
}
