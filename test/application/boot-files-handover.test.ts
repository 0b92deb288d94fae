// A conductor host with its own TFTP root drops a node's PXE files and MAC links (its DHCP
// entries) once another conductor holds the node, and only then (ADR 0072).
import { test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import type { Uuid } from "../../src/domain/values.ts"
import { initialState, type NodeState } from "../../src/domain/index.ts"
import type { NodeHardware } from "../../src/application/hardware/interfaces.ts"
import { makeBootFilesHandover } from "../../src/application/conductor/boot-files.ts"
import { makeSimBoot } from "../../src/adapters/sim/boot.ts"
import type { LinksChange } from "../../src/adapters/pxe/configurator.ts"

const nodeId = "5b0f4a43-6f0e-4a53-9d3c-0b8d3c8e2f10" as Uuid
const mac = "52:54:00:aa:bb:01"

const setUp = async () => {
  const published: Array<LinksChange> = []
  const sim = makeSimBoot({ onLinksChanged: (change) => Effect.sync(() => { published.push(change) }) })
  const write = () => Effect.runPromise(sim.configurator.prepareDeploy({
    nodeId, macs: [mac], deployKernel: "/images/k", deployRamdisk: "/images/r", kernel: null, ramdisk: null,
    deployId: "d1", deployKey: "k".repeat(32), iscsiIqn: "iqn.2026-11.io.ironledger:d1", apiUrl: "http://10.0.0.2:6385",
  }))
  await write()
  const hw = { boot: { configurator: sim.configurator } } as unknown as NodeHardware
  return { sim, hw, published, write }
}

/** A node's stream as far as leases go: the holder of each LeaseAcquired, null for any other event. */
const stream = (events: Array<string | null>) => {
  let reads = 0
  let down = false
  const since = (_nodeId: string, from: number) => {
    reads++
    return down ? Effect.fail("store unavailable") : Effect.succeed({ holders: events.slice(from).filter((h): h is string => h !== null), upTo: events.length - 1 })
  }
  // The node's state as the conductor has it: its revision; its lease may be gone (released) already.
  const state = (): NodeState => ({ ...initialState(nodeId), revision: events.length - 1, lease: null })
  return { events, since, state, reads: () => reads, setDown: (d: boolean) => { down = d } }
}

test("a node another conductor took leaves this host's TFTP root and DHCP hosts, even once it let go again", async () => {
  const { sim, hw, published } = await setUp()
  const log = stream(["c1", null, null])
  const handOver = makeBootFilesHandover("c1", log.since)
  assert.deepEqual(published.at(-1), { linked: [mac], unlinked: [] })
  await Effect.runPromise(handOver(log.state(), hw))
  assert.notEqual(sim.configForMac(mac), null, "kept while this conductor took the lease last")
  // c2 takes the node and releases it before this host looks.
  log.events.push("c2", null, null)
  await Effect.runPromise(handOver(log.state(), hw))
  assert.equal(sim.configForMac(mac), null)
  assert.equal(sim.configOf(nodeId), null)
  assert.deepEqual(sim.entries(), [])
  assert.deepEqual(published.at(-1), { linked: [], unlinked: [mac] }, "the DHCP server was told the MAC is no longer this host's")
})

test("kept when this conductor took the node back; a store away defers the look; each stretch is read once", async () => {
  const { sim, hw, write } = await setUp()
  const log = stream(["c2", null, "c1", null])
  const handOver = makeBootFilesHandover("c1", log.since)
  await Effect.runPromise(handOver(log.state(), hw))
  assert.notEqual(sim.configForMac(mac), null, "c1 took it after c2")
  log.events.push("c3")
  log.setDown(true)
  await Effect.runPromise(handOver(log.state(), hw))
  assert.notEqual(sim.configForMac(mac), null, "nothing removed on a guess")
  log.setDown(false)
  await Effect.runPromise(handOver(log.state(), hw))
  assert.equal(sim.configForMac(mac), null, "looked at again once the store answers")
  // Written again here later (a take-over by c1): the stretch already read is not read again.
  await write()
  const reads = log.reads()
  await Effect.runPromise(handOver(log.state(), hw))
  assert.equal(log.reads(), reads)
  assert.notEqual(sim.configForMac(mac), null)
})
