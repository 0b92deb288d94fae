// Power sync's pace (ADR 0125): the BMCs of a pass are asked spread over the pass, each once, at
// most `concurrency` at a time; a node an operation started on before its turn is left alone.
import { test } from "node:test"
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import * as Effect from "effect/Effect"
import { SecretsWithKey } from "../../src/adapters/system/secrets.ts"
import { makePowerSync } from "../../src/application/conductor/power-sync.ts"
import { Fleet, fleetSnapshotVersion } from "../../src/application/projections/fleet.ts"
import { compactNode } from "../../src/application/projections/fleet-snapshot.ts"
import { idleNode, registryWithBmc } from "../support/test-bmc.ts"

test("a pass spreads its BMCs over spreadMs, asks each once, at most `concurrency` at a time, and skips a node that got busy", async () => {
  const asked: Array<{ readonly name: string; readonly at: number }> = []
  let inFlight = 0
  let most = 0
  const registry = registryWithBmc("paced", (n) => Effect.gen(function* () {
    inFlight++
    most = Math.max(most, inFlight)
    asked.push({ name: n.name!, at: performance.now() })
    yield* Effect.sleep("5 millis")
    inFlight--
    return "power off" as const
  }))
  const nodes = Array.from({ length: 40 }, (_, i) => idleNode(`n${i}`, "paced"))
  const fleet = Fleet.restore({ version: fleetSnapshotVersion, position: -1, nodes: nodes.map(compactNode) })
  const busy = nodes[39]!.nodeId
  const sync = makePowerSync(fleet, registry, {
    // The last node's operation starts after the pass began: its turn finds it busy.
    busy: (id) => id === busy && asked.length > 0,
    observe: () => Effect.void,
  }, { spreadMs: 1000, concurrency: 3 })
  const t0 = performance.now()
  await Effect.runPromise(Effect.provide(sync, SecretsWithKey(randomBytes(32))))
  const names = asked.map((a) => a.name)
  assert.equal(names.length, 39, "every idle BMC once, the busy node's not")
  assert.equal(new Set(names).size, 39)
  assert.ok(!names.includes("n39"))
  assert.ok(most <= 3, `at most 3 at a time (saw ${most})`)
  // Spread: the first turns come at once, the last ones most of a second later, not all in a burst.
  assert.ok(asked[0]!.at - t0 < 300, "the pass begins at once")
  assert.ok(asked.at(-1)!.at - t0 >= 800, `the last BMC is asked near the end of the spread (${(asked.at(-1)!.at - t0).toFixed(0)} ms)`)
  const firstHalf = asked.filter((a) => a.at - t0 < 500).length
  assert.ok(firstHalf >= 10 && firstHalf <= 30, `about half in the first half of the spread (${firstHalf})`)
})
