// The notary as the service runs it: a fiber beside the API, and one last checkpoint on the way out.
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { loadCheckpointSigner } from "../adapters/system/checkpoint-keys.ts"
import { defaultNotaryConfig, makeNotary } from "../application/notary.ts"
import { checkpointStatement } from "../application/hash-chain.ts"
import type { EventStore } from "../ports/index.ts"

export interface NotaryOptions {
  /** Ed25519 private key (PEM) signing every checkpoint. */
  readonly signingKeyFile?: string
  readonly intervalMs?: number
  readonly every?: number
}

/** What the notary needs of the composed service: its store and clock. */
export interface NotaryRuntime {
  readonly runFork: <A, E>(effect: Effect.Effect<A, E, EventStore>) => Fiber.Fiber<A, E>
  readonly run: <A, E>(effect: Effect.Effect<A, E, EventStore>) => Promise<A>
}

/** Starts the notary; the function returned stops it after a final checkpoint. */

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
    await runtime.run(Fiber.interrupt(fiber))
    await runtime.run(Effect.ignore(notary.tick))
  }
}
