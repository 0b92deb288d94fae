// A conductor host with its own TFTP root drops a node's PXE files and MAC links (its DHCP
// entries) once another conductor holds the node, and only then (ADR 0072).
import { test } from "node:test"
import assert from "node:assert/strict"
import { Effect } from "effect"
import type { Mac, Uuid } from "../../src/domain/values.ts"
import { initialState, type NodeState } from "../../src/domain/index.ts"
import type { NodeHardware } from "../../src/application/hardware/interfaces.ts"
import { makeBootFilesHandover } from "../../src/application/conductor/boot-files.ts"
import { makeSimBoot } from "../../src/adapters/sim/boot.ts"

const nodeId = "5b0f4a43-6f0e-4a53-9d3c-0b8d3c8e2f10" as Uuid
const mac = "52:54:00:aa:bb:01"

const setUp = async () => {
  const published: Array<ReadonlyArray<Mac>> = []
  const sim = makeSimBoot({ onLinksChanged: (macs) => Effect.sync(() => { published.push(macs) }) })
  const write = () => Effect.runPromise(sim.configurator.prepareDeploy({
    nodeId, macs: [mac], deployKernel: "/images/k", deployRamdisk: "/images/r", kernel: null, ramdisk: null,
    deployId: "d1", deployKey: "k".repeat(32), iscsiIqn: "iqn.2026-11.io.ironledger:d1", apiUrl: "http://10.0.0.2:6385",
  }))
  await write()
  const hw = { boot: { configurator: sim.configurator } } as unknown as NodeHardware
  return { sim, hw, published, write }
}

const held = (holder: string | null): NodeState =>
  ({ ...initialState(nodeId), lease: holder === null ? null : { holder, expiresAt: "2026-11-30T10:00:00.000Z" } })

test("a node another conductor holds leaves this host's TFTP root and DHCP hosts", async () => {
  const { sim, hw, published } = await setUp()
  const handOver = makeBootFilesHandover("c1")
  assert.deepEqual(published.at(-1), [mac])
  for (const holder of [null, "c1"]) {
    await Effect.runPromise(handOver(held(holder), hw))
    assert.notEqual(sim.configForMac(mac), null, `kept with lease ${holder}`)
  }
  await Effect.runPromise(handOver(held("c2"), hw))
  assert.equal(sim.configForMac(mac), null)
  assert.equal(sim.configOf(nodeId), null)
  assert.deepEqual(sim.entries(), [])
  assert.deepEqual(published.at(-1), [], "the DHCP server was told the MAC is no longer this host's")
})

test("looked at once per change of holder", async () => {
  const { sim, hw, write } = await setUp()
  const handOver = makeBootFilesHandover("c1")
  await Effect.runPromise(handOver(held("c2"), hw))
  assert.equal(sim.configForMac(mac), null)
  // Written again here (as a take-over does): the same holder seen again changes nothing.
  await write()
  await Effect.runPromise(handOver(held("c2"), hw))
  assert.notEqual(sim.configForMac(mac), null, "the same holder seen twice is acted on once")
  // c1 held it since, then c2 again: a move, so dropped.
  await Effect.runPromise(handOver(held("c1"), hw))
  await Effect.runPromise(handOver(held("c2"), hw))
  assert.equal(sim.configForMac(mac), null)
})
