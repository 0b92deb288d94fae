// Benchmark: append 1,000,000 events over 10,000 node streams into a SQLite file, then replay them
// through the projections. Prints appends/s, replay events/s and peak RSS.
//   npm run bench:store [-- --events N --nodes N --batch N --store sqlite:FILE|postgres://...]
// (--store: another store than a fresh SQLite file; it should be empty.)
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { Effect } from "effect"
import * as E from "fp-ts/lib/Either.js"
import { decide, evolve, initialState, type NodeCommand, type NodeEvent, type NodeState, type Uuid } from "../src/domain/index.ts"
import { EventStore, type NewEvent } from "../src/ports/index.ts"
import { makeSqliteEventStore } from "../src/adapters/eventstore/sqlite.ts"
import { parseStoreAddress, storeLayer } from "../src/cli/store.ts"
import { replay } from "../src/application/audit.ts"
import { streamOf, toNewEvent } from "../src/application/event-codec.ts"

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    nodes: { type: "string", default: "10000" },
    batch: { type: "string", default: "10" },
    store: { type: "string" },
  },
})
const totalEvents = Number(values.events)
const nodeCount = Number(values.nodes)
const perNode = Math.ceil(totalEvents / nodeCount)

const uuid = (i: number, salt: number) =>
  `${salt.toString(16).padStart(8, "0")}-0000-4000-8000-${i.toString(16).padStart(12, "0")}` as Uuid

/** The commands of a node's life, repeated: enroll, verify, clean, then deploy/undeploy cycles. */
function* lifecycle(id: Uuid): Generator<NodeCommand, never, NodeState> {
  let s: NodeState = yield {
    type: "Enroll", nodeId: id, name: null, driver: "ipmi",
    driverInfo: { ipmi_address: "10.0.0.1", ipmi_password: { $sealed: "v1.x.y.z" } },
    properties: { cpus: 8, memory_mb: 32768, local_gb: 100, cpu_arch: "x86_64" }, instanceInfo: {}, extra: {},
  }
  s = yield { type: "AddPort", portId: uuid(Number.parseInt(id.slice(-12), 16), 1), mac: `52:54:00:${id.slice(-6, -4)}:${id.slice(-4, -2)}:${id.slice(-2)}` as never }
  s = yield { type: "Provision", verb: "manage" }
  s = yield { type: "Complete" }
  s = yield { type: "Provision", verb: "provide" }
  for (let cycle = 0; ; cycle++) {
    const step = (name: string) => `${s.operation?.id ?? "op"}:${name}:${cycle}`
    const pair = function* (type: "PowerOffRequested" | "PowerOnRequested" | "RebootRequested" | "BootConfigRequested" | "RamdiskReleaseRequested", name: string) {
      const key = step(name)
      const request = type === "BootConfigRequested"
        ? { type, data: { step: key, label: name.includes("boot") ? ("boot" as const) : name.includes("remove") ? null : ("deploy" as const) } }
        : { type, data: { step: key } }
      s = yield { type: "RequestHardware", request } as NodeCommand
      const result = type === "BootConfigRequested"
        ? { type: "BootConfigWritten" as const, data: { step: key, durationMs: 3 } }
        : type === "RamdiskReleaseRequested"
          ? { type: "RamdiskReleased" as const, data: { step: key, durationMs: 2 } }
          : { type: "PowerStateChanged" as const, data: { step: key, durationMs: 40, powerState: type === "PowerOffRequested" ? "power off" as const : "power on" as const } }
      s = yield { type: "RecordHardware", result } as NodeCommand
    }
    yield* pair("PowerOffRequested", "clean-power-off")
    s = yield { type: "Complete" }
    const deployId = uuid(cycle, 2)
    s = yield {
      type: "Deploy", rebuild: false,
      spec: { deployId, keyHash: "ab".repeat(32), sealedKey: { $sealed: "v1.a.b.c" }, imageSource: "f".repeat(64), imageKind: "partition", rootGb: 10 as never, swapMb: 512 as never, ephemeralGb: 0 as never, preserveEphemeral: false },
    }
    yield* pair("BootConfigRequested", "pxe-deploy")
    s = yield { type: "RequestHardware", request: { type: "BootDeviceRequested", data: { step: step("bootdev"), device: "pxe", persistent: true } } }
    s = yield { type: "RecordHardware", result: { type: "BootDeviceSet", data: { step: step("bootdev"), durationMs: 40, warning: null } } }
    yield* pair("PowerOnRequested", "power-on")
    s = yield { type: "AwaitCallback", deadline: "2030-01-01T00:00:00.000Z" }
    s = yield { type: "AcceptIscsi", deployId, target: { address: "10.0.0.2", port: 3260 as never, iqn: "iqn.2026-11.io.ironledger:node" as never, lun: 1 as never } }
    s = yield { type: "RequestHardware", request: { type: "ImageWriteRequested", data: { step: step("write"), deployId } } }
    s = yield { type: "RecordHardware", result: { type: "ImageWritten", data: { step: step("write"), durationMs: 9000, deployId, bytesWritten: (1 << 30) as never, rootUuid: "2b9c0c6e-6a8f-4c9e-9a53-0d1c2b3a4f5e", diskId: null } } }
    yield* pair("RamdiskReleaseRequested", "release")
    yield* pair("BootConfigRequested", "pxe-boot")
    yield* pair("RebootRequested", "reboot")
    s = yield { type: "Complete" }
    s = yield { type: "Provision", verb: "undeploy" }
    yield* pair("PowerOffRequested", "teardown-power-off")
    yield* pair("BootConfigRequested", "pxe-remove")
    s = yield { type: "Complete" }
  }
}

/** A node's lifecycle run through decide/evolve (so every event is one the domain accepts), lazily. */
function* eventsOf(id: Uuid, count: number): Generator<NewEvent> {
  let state: NodeState | null = null
  const commands = lifecycle(id)
  let next = commands.next(undefined as never)
  let t = Date.UTC(2026, 0, 1)
  for (let produced = 0; produced < count;) {
    const decided: E.Either<unknown, ReadonlyArray<NodeEvent>> = decide(state, next.value, id)
    if (E.isLeft(decided)) throw new Error(`lifecycle command ${next.value.type} refused: ${JSON.stringify(decided.left)}`)
    for (const event of decided.right) {
      const meta = { occurredAt: new Date(t += 1000).toISOString(), actor: "bench", correlationId: `${id}-op`, causationId: null }
      state = evolve(state ?? initialState(id), event, meta)
      if (produced++ < count) yield toNewEvent(event, meta)
    }
    next = commands.next(state!)
  }
}

const take = <A>(it: Iterator<A>, n: number): Array<A> => {
  const out: Array<A> = []
  while (out.length < n) {
    const r = it.next()
    if (r.done) break
    out.push(r.value)
  }
  return out
}

const dir = mkdtempSync(join(tmpdir(), "ironledger-bench-"))
const dbPath = join(dir, "store.sqlite")
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024)

const program = Effect.gen(function* () {
  const store = yield* EventStore
  const batch = Number(values.batch)
  const ids = Array.from({ length: nodeCount }, (_, i) => uuid(i, 0))
  const streams = ids.map((id) => eventsOf(id, perNode))
  console.log(`${nodeCount} nodes, ${perNode} events each, appended in batches of ${batch}`)
  let generated = 0
  let appendSeconds = 0
  // Round-robin across nodes, one operation-sized batch at a time, as a busy fleet would write.
  // A round is generated first (untimed), so the figure is the store's alone.
  for (let offset = 0; offset < perNode; offset += batch) {
    const round = streams.map((events) => take(events, batch))
    const started = performance.now()
    for (let i = 0; i < nodeCount; i++) {
      if (round[i]!.length === 0) continue
      yield* store.append(streamOf(ids[i]!), round[i]!, offset === 0 ? "no_stream" : offset - 1)
      generated += round[i]!.length
    }
    appendSeconds += (performance.now() - started) / 1000
  }
  console.log(`append: ${generated} events in ${appendSeconds.toFixed(2)} s = ${Math.round(generated / appendSeconds)} events/s ` +
    `(${Math.round(generated / batch / appendSeconds)} appends/s of ${batch} events)` +
    (values.store === undefined ? `; file ${(statSync(dbPath).size / 2 ** 20).toFixed(0)} MiB` : ""))
  // Reading alone, to tell the store's share of a replay from the projections'.
  const readStarted = performance.now()
  let read = 0
  for (let after = -1; ;) {
    const page = yield* store.readAll({ after, limit: 20_000 })
    read += page.length
    if (page.length === 0) break
    after = page[page.length - 1]!.position
  }
  const readSeconds = (performance.now() - readStarted) / 1000
  console.log(`read: ${read} events in ${readSeconds.toFixed(2)} s = ${Math.round(read / readSeconds)} events/s (store only, no projection)`)
  const report = yield* replay
  console.log(`replay: ${report.events} events into ${report.nodes} nodes in ${report.seconds.toFixed(2)} s = ${report.eventsPerSecond} events/s`)
  console.log(`fleet: ${JSON.stringify(report.countsByState)}`)
  console.log(`peak RSS: ${peakRssMb()} MB`)
})

try {
  await Effect.runPromise(Effect.provide(program, values.store === undefined ? makeSqliteEventStore(dbPath) : storeLayer(parseStoreAddress(values.store))))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
