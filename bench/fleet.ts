// Benchmark: N fake-hardware nodes (Ironic's semantics: nothing to boot or wait for), or with
// --sim N sim nodes (a simulated ramdisk calls back 10 ms after power-on), through enroll -> manage -> provide -> deploy -> active ->
// undeploy, all at once, on the embedded SQLite store. Prints nodes/s, p50/p99 per step, events/s
// and peak RSS.   npm run bench:fleet -- --nodes 1000 [--memory | --store sqlite:FILE|postgres://...] [--concurrency N]
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import * as Layer from "effect/Layer"
import { MemoryStores } from "../src/adapters/eventstore/memory.ts"
import { makeSqliteEventStore } from "../src/adapters/eventstore/sqlite.ts"
import { parseStoreAddress, storeLayer } from "../src/cli/store.ts"
import { RandomIds } from "../src/adapters/system/ids.ts"
import { SecretsWithKey } from "../src/adapters/system/secrets.ts"
import { defaultApplicationConfig } from "../src/application/live.ts"
import { compose, type Services } from "../src/cli/compose.ts"
import { simulatedHardware, type SimOptions } from "../src/cli/hardware.ts"
import type { NodeView } from "../src/application/node-service.ts"
import { isStable, type NodeState } from "../src/domain/index.ts"

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "1000" },
    memory: { type: "boolean", default: false },
    store: { type: "string" },
    concurrency: { type: "string", default: "1000" },
    sim: { type: "boolean", default: false },
  },
})
const nodeCount = Number(values.nodes)

const dir = mkdtempSync(join(tmpdir(), "ironledger-fleet-"))
const stores = values.memory ? MemoryStores
  : values.store !== undefined ? storeLayer(parseStoreAddress(values.store))
  : makeSqliteEventStore(join(dir, "fleet.sqlite"))
let deliver: SimOptions["deliver"]
const composed = await compose({
  services: Layer.mergeAll(stores, RandomIds, SecretsWithKey(randomBytes(32))) as Layer.Layer<Services>,
  // A sim ramdisk boots after its power-on was recorded, not in the same instant.
  hardware: simulatedHardware({ callbackDelayMs: 10, deliver: (nodeId, callback) => deliver!(nodeId, callback) }),
  config: {
    ...defaultApplicationConfig,
    conductor: { ...defaultApplicationConfig.conductor, maxConcurrentDeploys: Number(values.concurrency), sweepIntervalMs: 1000 },
  },
})
const { app, run } = composed
deliver = (nodeId, callback) => void run(app.service.passDeployInfo(nodeId, callback)).catch((e) => console.error(e))
const driver = values.sim ? "sim" : "fake-hardware"
const service = app.service

/** Resolves when the node settles in `state`: watched on the projection, no polling. */
const waiting = new Map<string, { state: NodeView["provisionState"]; resolve: () => void; reject: (e: Error) => void }>()
const isSettled = (n: NodeState, state: NodeView["provisionState"]) =>
  n.provisionState === state && (n.targetProvisionState === null || !isStable(state)) && n.pendingSteps.length === 0
app.fleet.watch((n) => {
  const w = waiting.get(n.nodeId)
  if (w === undefined) return
  if (isSettled(n, w.state)) { waiting.delete(n.nodeId); w.resolve() }
  else if (n.lastError && n.provisionState.endsWith("failed")) { waiting.delete(n.nodeId); w.reject(new Error(`${n.nodeId}: ${n.lastError}`)) }
})
const settled = (uuid: string, state: NodeView["provisionState"]) =>
  new Promise<void>((resolve, reject) => {
    const n = app.fleet.get(uuid)
    if (n !== undefined && isSettled(n, state)) return resolve()
    waiting.set(uuid, { state, resolve, reject })
  })

const stepNames = ["enroll", "manage", "provide", "deploy", "undeploy"] as const
const durations: Record<(typeof stepNames)[number], Array<number>> = { enroll: [], manage: [], provide: [], deploy: [], undeploy: [] }
const timed = async (step: (typeof stepNames)[number], work: () => Promise<unknown>) => {
  const t0 = performance.now()
  await work()
  durations[step].push(performance.now() - t0)
}

const lifecycle = async (i: number) => {
  let uuid = ""
  await timed("enroll", async () => {
    uuid = (await run(service.enroll({
      name: `bench-${i}` as never, driver, driverInfo: {},
      properties: { cpus: 8, memory_mb: 16384, local_gb: 40, cpu_arch: "x86_64" }, instanceInfo: {}, extra: {},
    }, "bench"))).uuid
    const mac = `52:54:00:${(i >> 16 & 255).toString(16).padStart(2, "0")}:${(i >> 8 & 255).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`
    await run(service.addPort({ nodeRef: uuid, mac: mac as never }, "bench"))
  })
  await timed("manage", async () => { await run(service.provision(uuid, "manage", {}, "bench")); await settled(uuid, "manageable") })
  await timed("provide", async () => { await run(service.provision(uuid, "provide", {}, "bench")); await settled(uuid, "available") })
  await timed("deploy", async () => { await run(service.provision(uuid, "active", {}, "bench")); await settled(uuid, "active") })
  await timed("undeploy", async () => { await run(service.provision(uuid, "deleted", {}, "bench")); await settled(uuid, "available") })
}

const percentile = (xs: Array<number>, p: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

try {
  const started = performance.now()
  await Promise.all(Array.from({ length: nodeCount }, (_, i) => lifecycle(i)))
  const seconds = (performance.now() - started) / 1000
  const events = app.fleet.position + 1
  console.log(`${nodeCount} ${driver} nodes on ${values.memory ? "the in-memory store" : values.store !== undefined ? parseStoreAddress(values.store).kind : "SQLite"}: ${seconds.toFixed(2)} s, ` +
    `${(nodeCount / seconds).toFixed(1)} nodes/s through the whole lifecycle`)
  for (const step of stepNames) {
    console.log(`  ${step.padEnd(9)} p50 ${percentile(durations[step], 50).toFixed(0).padStart(6)} ms   p99 ${percentile(durations[step], 99).toFixed(0).padStart(6)} ms`)
  }
  const cpu = process.cpuUsage()
  console.log(`cpu: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s in this process since it started, ${((cpu.user + cpu.system) / 1e3 / nodeCount).toFixed(1)} ms per node lifecycle`)
  const fleetEvents = [...app.fleet.nodes.values()].reduce((n, s) => n + s.revision + 1, 0)
  console.log(`events: ${fleetEvents} (${(fleetEvents / seconds).toFixed(0)} events/s, ${(fleetEvents / nodeCount).toFixed(0)} per node); log position ${events}`)
  const mem = process.memoryUsage()
  console.log(`peak RSS: ${Math.round(process.resourceUsage().maxRSS / 1024)} MB (now: heap ${Math.round(mem.heapUsed / 2 ** 20)} of ${Math.round(mem.heapTotal / 2 ** 20)} MB, external ${Math.round(mem.external / 2 ** 20)} MB, rss ${Math.round(mem.rss / 2 ** 20)} MB)`)
  console.log(`fleet: ${JSON.stringify(app.fleet.countsByState())}`)
} finally {
  await composed.close()
  rmSync(dir, { recursive: true, force: true })
}
