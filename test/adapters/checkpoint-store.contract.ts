// The CheckpointStore contract: what every adapter (memory, SQLite) must do. Run by
// checkpoint-store.test.ts against each one.
import { describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { CheckpointStore } from "../../src/ports/checkpoint-store.ts"
import type { StoreUnavailable } from "../../src/ports/event-store.ts"

/** One store; `open` builds a layer on it, so a second `open` is a restart of the same store. */
export interface CheckpointStoreUnderTest {
  readonly open: () => Layer.Layer<CheckpointStore, StoreUnavailable>
}

export const checkpointStoreContract = (name: string, makeStore: () => CheckpointStoreUnderTest) => {
  const run = <A, E>(store: CheckpointStoreUnderTest, body: (checkpoints: CheckpointStore["Service"]) => Effect.Effect<A, E>) =>
    Effect.runPromise(Effect.provide(CheckpointStore.use(body), store.open()))

  describe(`CheckpointStore contract: ${name}`, { timeout: 30_000 }, () => {
    test("a projection never saved has no checkpoint", async () => {
      const loaded = await run(makeStore(), (checkpoints) => checkpoints.load("node-state"))
      assert.ok(Option.isNone(loaded))
    })

    test("a saved checkpoint loads back as saved, also after the store is reopened", async () => {
      const store = makeStore()
      const state = JSON.stringify({ nodes: { "node-1": { provision: "active", name: "rack1-ü" } }, count: 1 })
      await run(store, (checkpoints) =>
        Effect.gen(function* () {
          yield* checkpoints.save("node-state", { position: 1234, state })
          assert.deepEqual(yield* checkpoints.load("node-state"), Option.some({ position: 1234, state }))
        }))
      const reloaded = await run(store, (checkpoints) => checkpoints.load("node-state"))
      assert.deepEqual(reloaded, Option.some({ position: 1234, state }))
    })

    test("saving again overwrites, and projections keep separate checkpoints", async () => {
      const store = makeStore()
      await run(store, (checkpoints) =>
        Effect.gen(function* () {
          yield* checkpoints.save("node-state", { position: 10, state: "{\"v\":1}" })
          yield* checkpoints.save("mac-index", { position: 7, state: "{\"macs\":[]}" })
          yield* checkpoints.save("node-state", { position: 25, state: "{\"v\":2}" })
        }))
      await run(store, (checkpoints) =>
        Effect.gen(function* () {
          assert.deepEqual(yield* checkpoints.load("node-state"), Option.some({ position: 25, state: "{\"v\":2}" }))
          assert.deepEqual(yield* checkpoints.load("mac-index"), Option.some({ position: 7, state: "{\"macs\":[]}" }))
          assert.ok(Option.isNone(yield* checkpoints.load("fleet-counts")))
        }))
    })

    test("a large state round-trips intact", async () => {
      const state = JSON.stringify({ nodes: Array.from({ length: 20_000 }, (_, i) => ({ id: `node-${i}`, power: "on" })) })
      const loaded = await run(makeStore(), (checkpoints) =>
        Effect.gen(function* () {
          yield* checkpoints.save("node-state", { position: 9_000_000_000, state })
          return yield* checkpoints.load("node-state")
        }))
      assert.deepEqual(loaded, Option.some({ position: 9_000_000_000, state }))
    })

    test("a state given in pieces loads back as their concatenation, characters of any width kept whole", async () => {
      // Pieces of every size around a store's write unit (a megabyte in the file store), some wider
      // than one UTF-16 unit: none may be split or lost at a boundary.
      const pieces = ["{\"names\":[", ...Array.from({ length: 600 }, (_, i) => `${i > 0 ? "," : ""}"${"ü𝄞x".repeat(i * 7 % 2_000)}-${i}"`), "]}"]
      // One piece longer than a megabyte, cut by the store: its pairs start at an odd index, so the
      // megabyte's last unit is the first half of a pair, which must not be cut from its second.
      pieces.splice(300, 0, `,"x${"𝄞".repeat(600_000)}"`)
      const state = pieces.join("")
      const loaded = await run(makeStore(), (checkpoints) =>
        Effect.gen(function* () {
          yield* checkpoints.save("fleet", { position: 42, state: pieces })
          return yield* checkpoints.load("fleet")
        }))
      assert.deepEqual(loaded, Option.some({ position: 42, state }))
      assert.equal((JSON.parse(state) as { names: Array<string> }).names.length, 601)
    })
  })
}
