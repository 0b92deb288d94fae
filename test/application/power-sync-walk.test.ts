// Power sync walks the fleet a tick's share at a time (ADR 0181): the first BMCs are asked before the
// rest of the fleet is looked at, and a node enrolled while the pass runs is asked in that pass.
import { test } from "node:test"
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import * as Effect from "effect/Effect"
import { SecretsWithKey } from "../../src/adapters/system/secrets.ts"
import { makePowerSync } from "../../src/application/conductor/power-sync.ts"
import { Fleet, fleetSnapshotVersion } from "../../src/application/projections/fleet.ts"
import { compactNode } from "../../src/application/projections/fleet-snapshot.ts"
import type { NodeState } from "../../src/domain/index.ts"
import { idleNode, registryWithBmc } from "../support/test-bmc.ts"

test("a pass looks at a tick's share of the fleet per tick and asks nodes enrolled meanwhile", async () => {
  let looked = 0
  let lookedAtFirstAsk = -1
  const asked: Array<string> = []
  let fleet!: Fleet
  const late = idleNode("late", "walked")
  const registry = registryWithBmc("walked", (n) => Effect.sync(() => {
    if (asked.length === 0) {
      lookedAtFirstAsk = looked
      // In the fleet after the pass began (as a node enrolled and managed meanwhile): the walk reaches it last.
      ;(fleet.nodes as Map<string, NodeState>).set(late.nodeId, late)
    }
    asked.push(n.name!)
    return "power off" as const
  }))
  const nodes = Array.from({ length: 2000 }, (_, i) => idleNode(`n${i}`, "walked"))
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
