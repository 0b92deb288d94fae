// The conductor: drives each node's running operation step by step, as plan() says, recording a
// request before every hardware action and its result after. One fiber per node at a time; a kick
// while it runs makes it look again. A periodic sweep re-kicks unfinished nodes (after a restart,
// or when another process wrote) and times out waits whose deadline passed.
import { Effect, Fiber, Schedule, Scope } from "effect"
import type { NodeCommand, NodeState } from "../../domain/index.ts"
import { Clock, EventStore, Ids, Secrets } from "../../ports/index.ts"
import { streamOf } from "../event-codec.ts"
import { catchUp, execute } from "../execute.ts"
import type { Fleet } from "../projections/fleet.ts"
import type { Progress } from "../projections/node-view.ts"
import type { ConductorHandle } from "../node-service-live.ts"
import type { Drivers } from "./hardware.ts"
import { bmcOf, perform, type PerformConfig } from "./perform.ts"
import { plan } from "./plan.ts"

export interface ConductorConfig {
  /** Names this conductor in the events it records. */
  readonly name: string
  readonly callbackTimeoutMs: number
  readonly maxConcurrentDeploys: number
  readonly sweepIntervalMs: number
  readonly perform: Omit<PerformConfig, "onProgress">
}

export const defaultConductorConfig: ConductorConfig = {
  name: "conductor",
  callbackTimeoutMs: 1_800_000,
  maxConcurrentDeploys: 50,
  sweepIntervalMs: 10_000,
  perform: { apiUrl: "http://127.0.0.1:6385", iqnPrefix: "iqn.2026-11.io.ironledger", ramdiskReleasePort: 10000 },
}

const unfinished = (n: NodeState): boolean =>
  !n.deleted && (n.targetProvisionState !== null || n.provisionState === "deploy failed" ||
    Object.keys(n.pendingSteps).length > 0)

const deployStarted = (n: NodeState): boolean =>
  (n.provisionState === "deploying" || n.provisionState === "wait call-back") &&
  (Object.keys(n.operation?.steps ?? {}).length > 0 || Object.keys(n.pendingSteps).length > 0)

export interface Conductor extends ConductorHandle {
  /** Resolves once no node has a reconcile running (tests and benchmarks wait on it). */
  readonly settle: Effect.Effect<void>
}

export const makeConductor = (fleet: Fleet, drivers: Drivers, config: ConductorConfig) =>
  Effect.gen(function* () {
    const services = yield* Effect.context<EventStore | Secrets | Clock | Ids>()
    const clock = yield* Clock
    const progress = new Map<string, NonNullable<Progress>>()
    const running = new Map<string, Fiber.Fiber<void, never>>()
    const again = new Set<string>()
    const queued = new Set<string>()
    let idleWaiters: Array<() => void> = []

    const onProgress = (nodeId: string, written: number, total: number) =>
      progress.set(nodeId, { bytesWritten: written, totalBytes: total })
    const performConfig: PerformConfig = { ...config.perform, onProgress }

    const run = (n: NodeState, command: NodeCommand) =>
      Effect.gen(function* () {
        const ctx = {
          actor: config.name,
          correlationId: n.operation?.id ?? (yield* (yield* Ids).uuid),
          causationId: `${streamOf(n.nodeId)}@${n.revision}`,
          occurredAt: new Date(yield* clock.now).toISOString(),
        }
        return yield* execute(fleet, n.nodeId, command, ctx)
      })

    const deploysInFlight = () => {
      let count = 0
      for (const n of fleet.nodes.values()) if (deployStarted(n)) count++
      return count
    }

    /** Drives one node until its plan says idle; returns whether it left the deploy states. */
    const reconcile = (nodeId: string) =>
      Effect.gen(function* () {
        for (;;) {
          const n = yield* catchUp(fleet, nodeId)
          if (n === undefined) return
          const hw = drivers[n.driver]
          if (hw === undefined) return
          const p = plan(n, {
            now: yield* clock.now,
            callbackTimeoutMs: config.callbackTimeoutMs,
            mayStartDeploy: deploysInFlight() < config.maxConcurrentDeploys,
          })
          switch (p.kind) {
            case "idle":
              if (p.why.startsWith("queued")) queued.add(nodeId)
              else queued.delete(nodeId)
              if (n.provisionState !== "deploying") progress.delete(nodeId)
              return
            case "request":
              yield* run(n, { type: "RequestHardware", request: p.request })
              break
            case "perform": {
              const result = yield* perform(n, hw, p.request, performConfig)
              yield* run(n, { type: "RecordHardware", result })
              break
            }
            case "verify": {
              const status = yield* Effect.result(Effect.flatMap(bmcOf(n), hw.power.status))
              if (status._tag === "Success") {
                yield* run(n, { type: "ObservePower", powerState: status.success })
                yield* run(n, { type: "Complete" })
              } else {
                yield* run(n, { type: "Fail", error: `The BMC did not answer: ${status.failure.message}` })
              }
              break
            }
            case "command":
              yield* run(n, p.command)
              break
          }
        }
      }).pipe(
        // A refusal means the node moved under us (another writer): look again on the next kick.
        Effect.catchCause((cause) => Effect.logWarning(`conductor: node ${nodeId}`, cause)),
        Effect.provideContext(services),
      )

    const finished = (nodeId: string) => {
      running.delete(nodeId)
      if (again.delete(nodeId)) return kick(nodeId)
      // A deploy slot may have freed up: let queued deploys try.
      for (const q of [...queued]) if (!running.has(q)) { queued.delete(q); kick(q) }
      if (running.size === 0) {
        const waiters = idleWaiters
        idleWaiters = []
        for (const w of waiters) w()
      }
    }

    const kick = (nodeId: string): void => {
      if (running.has(nodeId)) {
        again.add(nodeId)
        return
      }
      const fiber = Effect.runFork(Effect.ensuring(reconcile(nodeId), Effect.sync(() => finished(nodeId))))
      running.set(nodeId, fiber)
    }

    const sweep = Effect.sync(() => {
      for (const n of fleet.nodes.values()) if (unfinished(n)) kick(n.nodeId)
    })

    const scope = yield* Effect.scope
    yield* Effect.forkIn(Effect.repeat(sweep, { schedule: Schedule.spaced(`${config.sweepIntervalMs} millis`) }), scope)
    yield* Scope.addFinalizer(scope, Effect.suspend(() => Effect.forEach([...running.values()], Fiber.interrupt, { discard: true })))

    const conductor: Conductor = {
      kick,
      progressOf: (nodeId) => progress.get(nodeId) ?? null,
      settle: Effect.callback<void>((resume) => {
        if (running.size === 0) resume(Effect.void)
        else idleWaiters.push(() => resume(Effect.void))
      }),
    }
    return conductor
  })
