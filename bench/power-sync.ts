// bench:power-sync — one power sync pass over N idle nodes whose BMCs answer after `--latency` ms
// (simulated in-process, as many at a time as `--concurrency`), spread over `--interval` ms as the
// conductor spreads it (90% of the interval) and, for comparison, all at once. Prints the pass time,
// the CPU it cost, and the event loop's delay meanwhile (p99, max): what provisioning would wait.
//   node bench/power-sync.ts [--nodes 10000] [--interval 30000] [--latency 20] [--concurrency 8]
import { loadavg } from "node:os"
import { parseArgs } from "node:util"
import * as Effect from "effect/Effect"
import { fakeHardware } from "../src/adapters/fake/index.ts"
import { notSupported } from "../src/adapters/common/declared.ts"
import { SecretsWithKey } from "../src/adapters/system/secrets.ts"
import { makePowerSync } from "../src/application/conductor/power-sync.ts"
import type { PowerInterface } from "../src/application/hardware/interfaces.ts"
import { makeRegistry } from "../src/application/hardware/registry.ts"
import { Fleet, fleetSnapshotVersion } from "../src/application/projections/fleet.ts"
import { compactNode } from "../src/application/projections/fleet-snapshot.ts"
import { initialState, type Driver, type NodeState, type Uuid } from "../src/domain/index.ts"
import { randomBytes, randomUUID } from "node:crypto"
import { ownLoopLag } from "./scale/own-loop-lag.ts"

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "10000" },
    interval: { type: "string", default: "30000" },
    latency: { type: "string", default: "20" },
    concurrency: { type: "string", default: "8" },
  },
})
const count = Number(values.nodes)
const intervalMs = Number(values.interval)
const latencyMs = Number(values.latency)
const concurrency = Number(values.concurrency)

// A BMC that answers "power off" after latencyMs; every 100th node's machine was switched on by hand.
const power: PowerInterface = {
  slot: "power", name: "bench-bmc", description: "a BMC answering after a fixed delay", properties: [],
  status: (n) => Effect.as(Effect.sleep(`${latencyMs} millis`), n.name?.endsWith("00") ? "power on" : "power off"),
  powerOn: () => Effect.void, powerOff: () => Effect.void, softPowerOff: () => Effect.void, reboot: () => Effect.void,
}
const fakeType = fakeHardware.hardwareTypes[0]!
const registry = makeRegistry([notSupported, fakeHardware, {
  hardwareTypes: [{ name: "bench-bmc", description: "bench", interfaces: { ...fakeType.interfaces, power: ["bench-bmc"] } }],
  interfaces: [power],
}])
const nodes: Array<NodeState> = Array.from({ length: count }, (_, i) => ({
  ...initialState(randomUUID() as Uuid), revision: 3, name: `bmc-${String(i).padStart(6, "0")}`, driver: "bench-bmc" as Driver,
  provisionState: "manageable", powerState: "power off",
}))
const fleet = Fleet.restore({ version: fleetSnapshotVersion, position: -1, nodes: nodes.map(compactNode) })

const pass = async (spreadMs: number) => {
  let observed = 0
  const sync = makePowerSync(fleet, registry, {
    busy: () => false,
    observe: () => Effect.sync(() => { observed++ }),
  }, { spreadMs, concurrency })
  const loop = ownLoopLag(10)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await Effect.runPromise(Effect.provide(sync, SecretsWithKey(randomBytes(32))))
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const delay = loop.stop()
  console.log(`  ${spreadMs === 0 ? "all at once      " : `spread over ${(spreadMs / 1000).toFixed(0)} s`}: ${count} BMCs in ${seconds.toFixed(1)} s ` +
    `(${(count / seconds).toFixed(0)}/s), ${observed} changes seen, CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms ` +
    `(${((cpu.user + cpu.system) / count).toFixed(0)} µs per BMC); event loop delay p99 ${delay.p99Ms.toFixed(1)} ms, max ${delay.maxMs.toFixed(1)} ms`)
}

console.log(`power sync of ${count} simulated BMCs (${latencyMs} ms each, ${concurrency} at a time), interval ${intervalMs / 1000} s; load average ${loadavg()[0]!.toFixed(1)}`)
// The burst first, so that the spread pass is not the one paying for the JIT warming up.
await pass(0)
await pass(Math.floor(intervalMs * 0.9))
