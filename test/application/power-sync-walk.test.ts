// Power sync walks the fleet a tick's share at a time (ADR 0181): the first BMCs are asked before the
// rest of the fleet is looked at, and a node enrolled while the pass runs is asked in that pass.
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

const idleNode = (name: string): NodeState => ({
  ...initialState(randomUUID() as Uuid), revision: 2, name, driver: "walked" as Driver, provisionState: "manageable", powerState: "power off",
})

test("a pass looks at a tick's share of the fleet per tick and asks nodes enrolled meanwhile", async () => {
  let looked = 0
  let lookedAtFirstAsk = -1
  const asked: Array<string> = []
  let fleet!: Fleet
  const late = idleNode("late")
  const power: PowerInterface = {
    slot: "power", name: "walked-bmc", description: "test", properties: [],
    status: (n) => Effect.sync(() => {
      if (asked.length === 0) {
        lookedAtFirstAsk = looked
        // In the fleet after the pass began (as a node enrolled and managed meanwhile): the walk reaches it last.
        ;(fleet.nodes as Map<string, NodeState>).set(late.nodeId, late)
      }
      asked.push(n.name!)
      return "power off" as const
    }),
    powerOn: () => Effect.void, powerOff: () => Effect.void, softPowerOff: () => Effect.void, reboot: () => Effect.void,
  }
  const fake = fakeHardware.hardwareTypes[0]!
  const registry = makeRegistry([notSupported, fakeHardware, {
    hardwareTypes: [{ name: "walked", description: "test", interfaces: { ...fake.interfaces, power: ["walked-bmc"] } }],
    interfaces: [power],
  }])
  const nodes = Array.from({ length: 2000 }, (_, i) => idleNode(`n${i}`))
  fleet = Fleet.restore({ version: fleetSnapshotVersion, position: -1, nodes: nodes.map(compactNode) })
  const sync = makePowerSync(fleet, registry, {
    busy: () => { looked++; return false },
    observe: () => Effect.void,
  }, { spreadMs: 500, concurrency: 4 })
  await Effect.runPromise(Effect.provide(sync, SecretsWithKey(randomBytes(32))))
  // 5 ticks of 100 ms over 2,000 nodes: 400 looked at before the first BMC is asked, not 2,000.
  assert.ok(lookedAtFirstAsk > 0 && lookedAtFirstAsk <= 401, `nodes looked at before the first BMC was asked: ${lookedAtFirstAsk}`)
  assert.equal(new Set(asked.filter((n) => n !== "late")).size, 2000, "every node of the fleet once")
  assert.equal(asked.at(-1), "late", "the node added during the pass is asked in it")
  assert.equal(asked.length, 2001)
})
