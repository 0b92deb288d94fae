// A synthetic but valid log for the benchmarks: nodes taken through their lifecycle by decide and
// evolve (so every event is one the domain accepts), written round-robin as a busy fleet would.
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import { decide, evolve, initialState, type NodeCommand, type NodeEvent, type NodeState, type Uuid } from "../src/domain/index.ts"
import { EventStore, type NewEvent } from "../src/ports/index.ts"
import { streamOf, toNewEvent } from "../src/application/event-codec.ts"

export const uuid = (i: number, salt: number) =>
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
export function* eventsOf(id: Uuid, count: number): Generator<NewEvent> {
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

export const take = <A>(it: Iterator<A>, n: number): Array<A> => {
  const out: Array<A> = []
  while (out.length < n) {
    const r = it.next()
    if (r.done) break
    out.push(r.value)
  }
  return out
}


/**
 * Appends `perNode` lifecycle events for each of `nodeCount` nodes, `batch` events per append,
 * one round over all nodes at a time; a round's appends are submitted together so group commit
 * writes them in few transactions (filling a benchmark's log quickly, not measuring appends).
 */
export const writeLog = (nodeCount: number, perNode: number, batch: number, salt = 0) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const ids = Array.from({ length: nodeCount }, (_, i) => uuid(i, salt))
    const streams = ids.map((id) => eventsOf(id, perNode))
    let written = 0
    for (let offset = 0; offset < perNode; offset += batch) {
      const round = streams.map((events) => take(events, batch))
      yield* Effect.forEach(ids, (id, i) => round[i]!.length === 0 ? Effect.void
        : Effect.asVoid(store.append(streamOf(id), round[i]!, offset === 0 ? "no_stream" : offset - 1)),
      { concurrency: "unbounded", discard: true })
      written += round.reduce((n, r) => n + r.length, 0)
    }
    return written
  })
