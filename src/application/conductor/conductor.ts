// The conductor: drives each node's running operation step by step, as plan() says, recording a
// request before every hardware action and its result after. One fiber per node at a time; a kick
// while it runs makes it look again. A periodic sweep re-kicks unfinished nodes (after a restart,
// or when another process wrote) and times out waits whose deadline passed. See ADR 0010.
import { readHardwareSettings } from "../hardware/cache-settings.ts"
import { changesReportedSettings } from "../cleaning/settings-after-step.ts"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { pendingStep, waitStates, type ConductorCommand, type HardwareResultBody, type NodeCommand, type NodeState } from "../../domain/index.ts"
import { EventStore, Ids, Secrets } from "../../ports/index.ts"
import { streamOf } from "../event-codec.ts"
import { catchUp, execute, executePlanned, Stale } from "../execute.ts"
import { Refused } from "../node-service.ts"
import type { NodeHardware } from "../hardware/interfaces.ts"
import { Batch, writeBatch } from "./batch.ts"
import { instantHardware, instantStep, instantVerify } from "./instant.ts"
import type { Fleet } from "../projections/fleet.ts"
import type { Progress } from "../projections/node-view.ts"
import type { ConductorHandle } from "../node-service-live.ts"
import * as E from "fp-ts/lib/Either.js"
import type { Registry } from "../hardware/registry.ts"
import { mintRamdiskKey } from "../ramdisk-key.ts"
import { observeWaitTimeout } from "../observe.ts"
import { makeDeploySlots } from "./deploy-slots.ts"
import { makeBootFilesHandover, restoreBootFiles } from "./boot-files.ts"
import { makeLeases } from "./leases.ts"
import { perform, type PerformConfig } from "./perform.ts"
import { makePowerSync } from "./power-sync.ts"
import { deployStepsOf } from "../deploying/deploy-steps.ts"
import { deployStarted, plan } from "./plan.ts"
import { cleanStepsOf } from "../cleaning/steps-of-node.ts"

export interface ConductorConfig {
  /** Names this conductor in the events it records and in its leases: unique per conductor. */
  readonly name: string
  /** How long a lease on a node lasts; renewed while the conductor works on the node. */
  readonly leaseTtlMs: number
  readonly callbackTimeoutMs: number
  readonly maxConcurrentDeploys: number
  readonly sweepIntervalMs: number
  /** How often BMCs are asked for the power state of idle nodes (Ironic's power sync); 0: never. */
  readonly powerSyncIntervalMs: number
  /** How many BMCs power sync asks at a time (default 8). */
  readonly powerSyncConcurrency?: number
  /** Whether provide and tear-down clean nodes whose automated_clean is not set (Ironic's [conductor]automated_clean). */
  readonly automatedClean: boolean
  /** The steps automated cleaning runs, those a node's interfaces offer, in this order (Ironic's default: erase_devices_metadata). */
  readonly automatedCleanSteps: ReadonlyArray<string>
  readonly perform: Omit<PerformConfig, "onProgress">
  /**
   * False in a process that only serves the API beside `ironledger conductor` processes: it records
   * requests and call-backs but drives no node (`serve --no-conductor`).
   */
  readonly drivesNodes: boolean
  /**
   * This host's TFTP root is its own, not shared with other conductors (ADR 0072): a node another
   * conductor takes has its files and DHCP entry removed here. Default false (one shared tree).
   */
  readonly hostBootFiles?: boolean
}

export const defaultConductorConfig: ConductorConfig = {
  name: "conductor",
  leaseTtlMs: 60_000,
  callbackTimeoutMs: 1_800_000,
  maxConcurrentDeploys: 50,
  sweepIntervalMs: 10_000,
  powerSyncIntervalMs: 120_000,
  automatedClean: true,
  automatedCleanSteps: ["deploy.erase_devices_metadata"],
  perform: { apiUrl: "http://127.0.0.1:6385", iqnPrefix: "iqn.2026-11.io.ironledger", ramdiskReleasePort: 10000 },
  drivesNodes: true,
}

/** Nodes the sweep looks at again: a running operation, or a failure whose clean-up may be unfinished. */
const unfinished = (n: NodeState): boolean =>
  !n.deleted && (n.targetProvisionState !== null || n.provisionState === "deploy failed" ||
    n.provisionState === "clean failed" || n.pendingSteps.length > 0 || n.queue.length > 0)

export interface Conductor extends ConductorHandle {
  /** Resolves once no node has a reconcile running (tests and benchmarks wait on it). */
  readonly settle: Effect.Effect<void>
}

export const makeConductor = (fleet: Fleet, registry: Registry, config: ConductorConfig) =>
  Effect.gen(function* () {
    const services = yield* Effect.context<EventStore | Secrets | Ids>()
    const progress = new Map<string, NonNullable<Progress>>()
    // A node is in `running` from its kick until its fiber ends; the fiber may finish synchronously.
    const running = new Map<string, Fiber.Fiber<void, never> | null>()
    const again = new Set<string>()
    const queued = new Set<string>()
    // Deploys given a slot whose first step is not in the log yet: counted so that nodes kicked
    // together do not all see the same free slot.
    const starting = new Set<string>()
    // Nodes whose fleet copy may lag the log: read their stream before planning again.
    const behind = new Set<string>()
    let idleWaiters: Array<() => void> = []

    const onProgress = (nodeId: string, written: number, total: number) =>
      progress.set(nodeId, { bytesWritten: written, totalBytes: total })
    const performConfig: PerformConfig = { ...config.perform, onProgress }

    const contextOf = (n: NodeState) =>
      Effect.gen(function* () {
        return {
          actor: config.name,
          correlationId: n.operation?.id ?? (yield* (yield* Ids).uuid),
          causationId: `${streamOf(n.nodeId)}@${n.revision}`,
          occurredAt: new Date(yield* Clock.currentTimeMillis).toISOString(),
        }
      })

    /** Lease bookkeeping: decided on the log as it is, whatever the plan was. */
    const record = (n: NodeState, command: NodeCommand) =>
      Effect.flatMap(contextOf(n), (ctx) => execute(fleet, n.nodeId, command, ctx))

    /**
     * Records a step planned on `n`, under this conductor's lease. Null when the node moved on
     * meanwhile (an abort, another conductor): the caller plans again from the new state.
     */
    const run = (n: NodeState, command: ConductorCommand) =>
      Effect.gen(function* () {
        const planned = yield* contextOf(n)
        // A queued action runs under the correlation id of the request that queued it.
        const head = command.type === "StartQueued" ? n.queue[0] : undefined
        const ctx = head === undefined ? planned : { ...planned, correlationId: head.actionId }
        const asConductor: NodeCommand = { type: "AsConductor", holder: config.name, now: ctx.occurredAt, command }
        return yield* executePlanned(fleet, n.nodeId, n.revision, asConductor, ctx).pipe(
          Effect.catchTag("Stale", () => Effect.sync(() => { behind.add(n.nodeId); return null })),
        )
      })

    const { renewingLease } = makeLeases(fleet, config, record)
    const { underDeployLimit, freeSlots, stop: stopSlots } = makeDeploySlots(fleet, config.maxConcurrentDeploys, starting)
    // The nodes the sweep kicks, kept as the fleet changes rather than found by a walk of the fleet.
    const unfinishedNodes = new Set<string>()
    const trackUnfinished = (n: NodeState) => void (unfinished(n) ? unfinishedNodes.add(n.nodeId) : unfinishedNodes.delete(n.nodeId))
    for (const n of fleet.nodes.values()) trackUnfinished(n)
    const stopTracking = fleet.watch(trackUnfinished)
    const leaseHoldersSince = (nodeId: string, from: number) =>
      Effect.map(Effect.flatMap(EventStore, (store) => store.readStream(streamOf(nodeId), from)), (tail) => ({
        holders: tail.filter((e) => e.type === "LeaseAcquired").map((e) => (e.data as { readonly holder: string }).holder),
        upTo: from + tail.length - 1,
      })).pipe(Effect.provideContext(services))
    const handOverBootFiles = config.hostBootFiles === true ? makeBootFilesHandover(config.name, leaseHoldersSince) : () => Effect.void

    /** AcquireLease when the node is not ours, or ours with less than half of the lease left; null: kept. */
    const leaseToTake = (n: NodeState, now: number): NodeCommand | null =>
      n.lease?.holder === config.name && Date.parse(n.lease.expiresAt) - now > config.leaseTtlMs / 2 ? null
        : { type: "AcquireLease", holder: config.name, now: new Date(now).toISOString(), expiresAt: new Date(now + config.leaseTtlMs).toISOString() }

    /**
     * Drives one node until its plan says idle. Its writes are gathered in a batch (ADR 0125): the
     * lease, commands and instant steps go to the log together, and the batch is written before
     * anything touches hardware outside this process, when the plan says idle, and before a wait.
     */
    const reconcile = (nodeId: string) =>
      Effect.gen(function* () {
        let batch: Batch | null = null
        // Results of steps carried out on real hardware: recorded even if the node moved meanwhile.
        let carriedOut: { readonly step: string; readonly result: HardwareResultBody } | null = null
        let afterWrite: Array<Effect.Effect<void>> = []
        const open = (n: NodeState) => batch ?? (batch = new Batch(nodeId, n))
        const add = (command: NodeCommand, n: NodeState, correlationId?: string) =>
          Effect.gen(function* () {
            const planned = yield* contextOf(n)
            const ctx = correlationId === undefined ? planned : { ...planned, correlationId }
            const added = open(n).add(command.type === "AcquireLease" || command.type === "ReleaseLease" ? command
              : { type: "AsConductor", holder: config.name, now: ctx.occurredAt, command: command as ConductorCommand }, ctx)
            if (E.isLeft(added)) return yield* Effect.fail(new Refused({ error: added.left }))
            return added.right
          })
        /** Writes the batch; false when the node moved meanwhile and the conductor must plan again from the log. */
        const flush = (hw: NodeHardware) =>
          Effect.gen(function* () {
            const b = batch
            const done = carriedOut
            const hooks = afterWrite
            batch = null
            carriedOut = null
            afterWrite = []
            if (b === null || b.events.length === 0) return true
            const written = yield* Effect.result(writeBatch(fleet, b))
            if (written._tag === "Failure") {
              if (!(written.failure instanceof Stale)) return yield* Effect.fail(written.failure)
              behind.add(nodeId)
              // The action happened, whatever landed in the log meanwhile (a ramdisk's call-back
              // recorded by the API): record its result on the log as it is now rather than plan
              // again from a stale copy, which would carry the step out a second time.
              if (done !== null) yield* recordResult(done.step, done.result)
              return false
            }
            for (const hook of hooks) yield* hook
            // A new lease may follow another conductor's, whose host kept the node's PXE files: they
            // are written here before this conductor acts on the node.
            if (b.takesLease && hw.boot.instant !== true) {
              const leased = written.success
              yield* restoreBootFiles(leased, hw, (request) => perform(leased, hw, request, performConfig))
            }
            return true
          })
        const recordResult = (step: string, result: HardwareResultBody) =>
          Effect.gen(function* () {
            for (let attempt = 0; attempt < 3; attempt++) {
              const now = yield* catchUp(fleet, nodeId)
              behind.delete(nodeId)
              if (now === undefined || pendingStep(now, step) === undefined) return
              if ((yield* run(now, { type: "RecordHardware", result })) !== null) return
            }
          })

        for (;;) {
          // The fleet's copy holds this process's writes and the log follower brings other
          // processes' (and kicks again); the log is read only after a stale plan.
          const fromLog = batch === null && behind.delete(nodeId)
          const n = batch !== null ? (batch as Batch).state : fromLog ? yield* catchUp(fleet, nodeId) : fleet.nodes.get(nodeId)
          if (n === undefined) return
          const resolved = registry.resolve(n)
          if (E.isLeft(resolved)) return yield* Effect.logWarning(`conductor: node ${nodeId}: ${resolved.left}`)
          const hw = resolved.right
          // Another conductor took the node: its boot (and DHCP entry) is no longer this host's.
          if (batch === null) yield* handOverBootFiles(n, hw)
          const now = yield* Clock.currentTimeMillis
          const p = plan(n, {
            now,
            callbackTimeoutMs: config.callbackTimeoutMs,
            mayStartDeploy: () => starting.has(nodeId) || underDeployLimit(),
            deployStyle: hw.deploy.style,
            automatedClean: n.automatedClean ?? config.automatedClean,
            cleanSteps: cleanStepsOf(n, hw, config.automatedCleanSteps),
            deploySteps: deployStepsOf(n, hw),
            inspectStyle: hw.inspect.name === "agent" ? "agent" : "instant",
            ramdiskBootDevice: hw.boot.media?.device ?? "pxe",
            rescueStyle: hw.rescue.name === "agent" ? "agent" : "instant",
          })
          if (p.kind === "idle") {
            if (p.why.startsWith("queued")) queued.add(nodeId)
            else queued.delete(nodeId)
            if (n.provisionState !== "deploying") progress.delete(nodeId)
            // Waiting for a ramdisk, the node stays ours until the lease runs out: the call-back is
            // usually back well before, and we carry on without a release and a new lease.
            if (n.lease?.holder === config.name && !waitStates.includes(n.provisionState)) {
              if (batch === null) yield* record(n, { type: "ReleaseLease", holder: config.name })
              else yield* add({ type: "ReleaseLease", holder: config.name }, n)
            }
            if (yield* flush(hw)) return
            continue
          }
          if (n.provisionState === "deploying" && !deployStarted(n)) starting.add(nodeId)
          const lease = leaseToTake(n, now)
          if (lease !== null) {
            const taken = yield* Effect.result(add(lease, n))
            if (taken._tag === "Failure") {
              // Held by another conductor as far as this copy knows: a copy not read from the log
              // just now is checked against it first.
              if (batch === null || (batch as Batch).events.length === 0) {
                batch = null
                if (fromLog) return
                behind.add(nodeId)
                continue
              }
              if (yield* flush(hw)) return
              continue
            }
            open(n).takesLease = true
          }
          switch (p.kind) {
            case "request": {
              const at = yield* add({ type: "RequestHardware", request: p.request }, n)
              if (instantStep(hw, p.request)) {
                yield* add({ type: "RecordHardware", result: yield* perform(at, hw, p.request, performConfig) }, at)
              } else if (!(yield* flush(hw))) continue
              break
            }
            case "perform": {
              const step = p.request.data.step
              if (instantStep(hw, p.request)) {
                yield* add({ type: "RecordHardware", result: yield* perform(n, hw, p.request, performConfig) }, n)
                break
              }
              // On real hardware the lease and the request are in the log before the action.
              if (!(yield* flush(hw))) continue
              const leased = fleet.nodes.get(nodeId)!
              const result = yield* renewingLease(nodeId, step, perform(leased, hw, p.request, performConfig))
              // Recorded on the log as it is now (fleet's copy); a stale batch falls back to recordResult.
              const recorded = yield* add({ type: "RecordHardware", result }, fleet.nodes.get(nodeId)!)
              carriedOut = { step, result }
              // The reboot after a BIOS or firmware step applied it: keep what the BMC reports now.
              if (changesReportedSettings(step)) {
                const cached = yield* readHardwareSettings(hw, recorded)
                for (const warning of cached.warnings) yield* Effect.logWarning(`conductor: ${warning}`)
                for (const command of cached.commands) yield* add(command, (batch as Batch | null)?.state ?? recorded)
              }
              break
            }
            case "verify": {
              if (!instantVerify(hw) && !(yield* flush(hw))) continue
              const at = (batch as Batch | null)?.state ?? fleet.nodes.get(nodeId)!
              const status = yield* Effect.result(hw.power.status(at))
              if (status._tag === "Success") {
                let now = yield* add({ type: "ObservePower", powerState: status.success }, at)
                // As Ironic does after a verify: keep what the BMC reports of BIOS and firmware.
                const cached = yield* readHardwareSettings(hw, at)
                for (const warning of cached.warnings) yield* Effect.logWarning(`conductor: ${warning}`)
                for (const command of cached.commands) now = yield* add(command, now)
                yield* add({ type: "Complete" }, now)
              } else {
                yield* add({ type: "Fail", error: `The BMC did not answer: ${status.failure.message}` }, at)
              }
              break
            }
            case "issueRamdiskKey":
              yield* add({ type: "IssueRamdiskKey", ...yield* mintRamdiskKey }, n)
              break
            case "command": {
              // A queued action runs under the correlation id of the request that queued it.
              yield* add(p.command, n, p.command.type === "StartQueued" ? n.queue[0]?.actionId : undefined)
              if (p.command.type === "TimeOutWait") afterWrite.push(observeWaitTimeout(n.provisionState))
              break
            }
          }
          // On real hardware each planned step is written on its own (with the lease it took); a
          // long walk of instant steps is written in pieces.
          const pending = batch as Batch | null
          if (pending !== null && (!instantHardware(hw) || pending.events.length >= 64) && !(yield* flush(hw))) continue
        }
      }).pipe(
        // A refusal means the node moved under us (another writer): look again on the next kick.
        Effect.catchCause((cause) => Effect.logWarning(`conductor: node ${nodeId}`, cause)),
        Effect.annotateLogs({ node: nodeId, actor: config.name }),
        Effect.provideContext(services),
      )

    const finished = (nodeId: string) => {
      running.delete(nodeId)
      starting.delete(nodeId)
      if (again.delete(nodeId)) return kick(nodeId)
      // A deploy slot may have freed up: let queued deploys try. Only then: a queued node that
      // finishes must not kick the queue, itself included, or queued nodes kick each other forever.
      // As many as there are free slots, oldest first: not every queued deploy for each one that ends.
      let free = queued.size > 0 ? freeSlots() : 0
      for (const q of queued) {
        if (free <= 0) break
        if (running.has(q)) continue
        queued.delete(q)
        free--
        kick(q)
      }
      if (running.size === 0) {
        const waiters = idleWaiters
        idleWaiters = []
        for (const w of waiters) w()
      }
    }

    // Set as the conductor stops: a kick arriving later (a log poll, a late call-back) starts nothing.
    let stopping = false
    const kick = (nodeId: string): void => {
      if (!config.drivesNodes || stopping) return
      if (running.has(nodeId)) {
        again.add(nodeId)
        return
      }
      running.set(nodeId, null)
      const fiber = Effect.runFork(Effect.ensuring(reconcile(nodeId), Effect.sync(() => finished(nodeId))))
      if (running.get(nodeId) === null) running.set(nodeId, fiber)
    }

    const sweep = Effect.sync(() => {
      for (const nodeId of [...unfinishedNodes]) kick(nodeId)
    })

    const syncPower = makePowerSync(fleet, registry, {
      busy: (nodeId) => running.has(nodeId),
      observe: (n, power) => Effect.asVoid(record(n, { type: "ObservePower", powerState: power })),
      fault: (n, reason) => Effect.asVoid(record(n, { type: "RecordFault", fault: "power failure", reason })),
      recovered: (n) => Effect.asVoid(record(n, { type: "ClearFault", fault: "power failure" })),
    }, { spreadMs: Math.floor(config.powerSyncIntervalMs * 0.9), concurrency: config.powerSyncConcurrency ?? 8 }).pipe(Effect.provideContext(services))

    const scope = yield* Effect.scope
    if (config.drivesNodes) {
      yield* Effect.forkIn(Effect.repeat(sweep, { schedule: Schedule.spaced(`${config.sweepIntervalMs} millis`) }), scope)
      if (config.powerSyncIntervalMs > 0) {
        // A pass is spread over most of the interval; the next begins one interval after this one did
        // (or at once, when slow BMCs made the pass outlast it).
        const interval = config.powerSyncIntervalMs
        yield* Effect.forkIn(Effect.andThen(Effect.sleep(`${interval} millis`), Effect.forever(Effect.gen(function* () {
          const began = yield* Clock.currentTimeMillis
          yield* syncPower
          const left = began + interval - (yield* Clock.currentTimeMillis)
          if (left > 0) yield* Effect.sleep(`${left} millis`)
        }))), scope)
      }
    }
    // On the way out: stop driving, then hand back our leases so other conductors need not wait for them to run out.
    const releaseLeases = Effect.suspend(() => Effect.forEach(
      [...fleet.nodes.values()].filter((n) => n.lease?.holder === config.name),
      (n) => Effect.ignore(record(n, { type: "ReleaseLease", holder: config.name })),
      { discard: true },
    )).pipe(Effect.provideContext(services))
    yield* Scope.addFinalizer(scope, Effect.suspend(() => {
      stopping = true
      stopSlots()
      stopTracking()
      return Effect.forEach([...running.values()].filter((f) => f !== null), Fiber.interrupt, { discard: true })
    }).pipe(
      Effect.andThen(releaseLeases),
    ))

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
