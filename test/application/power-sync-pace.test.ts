// Power sync's pace (ADR 0125): the BMCs of a pass are asked spread over the pass, each once, at
// most `concurrency` at a time; a node an operation started on before its turn is left alone.
import { test } from "node:test"
import assert from "node:assert/strict"
import { randomBytes, randomUUID } from "node:crypto"
import * as Effect from "effect/Effect"
import { notSupported } from "../../src/adapters/common/declared.ts"
import { fakeHardware } from "../../src/adapters/fake/index.ts"
import { SecretsWithKey } from "../../src/adapters/system/secrets.ts"
import { makePowerSync } from "../../src/application/conductor/power-sync.ts"
import type { PowerInterface } from "../../src/application/hardware/interfaces.ts"
import { makeRegistry } from "../../src/application/hardware/registry.ts"
import { Fleet, fleetSnapshotVersion } from "../../src/application/projections/fleet.ts"
import { compactNode } from "../../src/application/projections/fleet-snapshot.ts"
import { initialState, type Driver, type NodeState, type Uuid } from "../../src/domain/index.ts"

test("a pass spreads its BMCs over spreadMs, asks each once, at most `concurrency` at a time, and skips a node that got busy", async () => {
  const asked: Array<{ readonly name: string; readonly at: number }> = []
  let inFlight = 0
  let most = 0
  const power: PowerInterface = {
    slot: "power", name: "paced-bmc", description: "test", properties: [],
    status: (n) => Effect.gen(function* () {
      inFlight++
      most = Math.max(most, inFlight)
      asked.push({ name: n.name!, at: performance.now() })
      yield* Effect.sleep("5 millis")
      inFlight--
      return "power off" as const
    }),
    powerOn: () => Effect.void, powerOff: () => Effect.void, softPowerOff: () => Effect.void, reboot: () => Effect.void,
  }
  const fake = fakeHardware.hardwareTypes[0]!
  const registry = makeRegistry([notSupported, fakeHardware, {
    hardwareTypes: [{ name: "paced", description: "test", interfaces: { ...fake.interfaces, power: ["paced-bmc"] } }],
    interfaces: [power],
  }])
  const nodes: Array<NodeState> = Array.from({ length: 40 }, (_, i) => ({
    ...initialState(randomUUID() as Uuid), revision: 2, name: `n${i}`, driver: "paced" as Driver, provisionState: "manageable", powerState: "power off",
  }))
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
