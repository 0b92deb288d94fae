// fast-check arbitraries for node commands and for valid histories built from them.
// Ids, MACs, names, deploy ids and step keys come from small per-node pools, so random sequences
// collide often enough to hit duplicates, matching deploy ids and paired hardware steps.
import fc from "fast-check"
import * as E from "fp-ts/lib/Either.js"
import {
  decide, evolve, initialState, powerStates, transitions,
  type ConductorCommand, type Iqn, type NonNegativeInt, type PortNumber, type ProvisionState, type DeploySpec, type DriverInfo, type EventMeta, type HardwareRequestBody, type HardwareResultBody,
  type Mac, type NodeCommand, type NodeName, type NodeState, type RecordedNodeEvent, type Sealed, type UserVerb, type Uuid,
} from "../../src/domain/index.ts"

/** Every sealed value the arbitraries make starts with this, so a leak is a plain substring search. */
export const SEALED_MARK = "SEALED-"

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0")
/** A valid lowercase UUID, distinct for each (kind, node, n). */
export const uuidOf = (kind: number, node: number, n: number): Uuid =>
  `${hex(kind, 8)}-${hex(node, 4)}-4000-8000-${hex(n, 12)}` as Uuid

export interface Pools {
  readonly nodeId: Uuid
  readonly names: ReadonlyArray<NodeName>
  readonly portIds: ReadonlyArray<Uuid>
  readonly macs: ReadonlyArray<Mac>
  readonly deployIds: ReadonlyArray<Uuid>
  readonly instanceIds: ReadonlyArray<Uuid>
  readonly steps: ReadonlyArray<string>
}

/** The pools of node number `k`: disjoint from every other node's, so fleet indexes never clash. */
export const poolsFor = (k: number): Pools => ({
  nodeId: uuidOf(1, k, 1),
  names: [`node-${k}`, `rack${k}.slot-a`] as Array<NodeName>,
  portIds: [0, 1, 2].map((i) => uuidOf(2, k, i)),
  macs: [0, 1, 2].map((i) => `52:54:00:${hex(k, 2)}:00:${hex(i, 2)}`) as Array<Mac>,
  deployIds: [0, 1].map((i) => uuidOf(3, k, i)),
  instanceIds: [0, 1].map((i) => uuidOf(4, k, i)),
  steps: ["boot-device", "power", "write-image"],
})

/** fc.record, always with a plain prototype: the domain's objects are plain, and JSON gives plain ones back. */
const rec: typeof fc.record = ((model: never, constraints?: object) =>
  fc.record(model, { ...constraints, noNullPrototype: true } as never)) as typeof fc.record

const pick = <T>(values: ReadonlyArray<T>) => fc.constantFrom(...values)

export const sealedArb: fc.Arbitrary<Sealed> = fc.stringMatching(/^[A-Za-z0-9]{6,16}$/).map((s) => ({ $sealed: SEALED_MARK + s }))

const word = fc.stringMatching(/^[a-z][a-z0-9 ]{0,11}$/)
const scalar = fc.oneof(word, fc.integer({ min: -1000, max: 1000 }), fc.boolean(), fc.constant(null))
const jsonRecord = fc.dictionary(pick(["cpus", "memory_mb", "local_gb", "cpu_arch", "vendor", "rack"]), scalar, { maxKeys: 3, noNullPrototype: true })

const driverInfoArb = (): fc.Arbitrary<DriverInfo> =>
  rec({
    ipmi_address: fc.constant("127.0.0.1"),
    ipmi_port: fc.integer({ min: 1024, max: 65535 }),
    ipmi_username: fc.constant("admin"),
    ipmi_password: sealedArb,
  }, { requiredKeys: ["ipmi_address"] })

const instanceInfoArb = (p: Pools) =>
  rec({
    instance_uuid: pick(p.instanceIds),
    image_source: fc.constantFrom("file:///images/debian.qcow2", "file:///images/cirros.img"),
    root_gb: fc.integer({ min: 1, max: 4 }),
  }, { requiredKeys: [] })

export const enrollArb = (p: Pools): fc.Arbitrary<NodeCommand> =>
  rec({
    name: fc.option(pick(p.names), { nil: null }),
    driver: fc.constantFrom("ipmi" as const, "fake-hardware" as const),
    driverInfo: driverInfoArb(),
    properties: jsonRecord,
    instanceInfo: instanceInfoArb(p),
    extra: jsonRecord,
  }).map((r) => ({ type: "Enroll" as const, nodeId: p.nodeId, ...r }))

const updateArb = (p: Pools): fc.Arbitrary<NodeCommand> =>
  rec({
    name: fc.option(pick(p.names), { nil: null }),
    driver: fc.constantFrom("ipmi" as const, "fake-hardware" as const),
    driverInfo: driverInfoArb(),
    properties: jsonRecord,
    instanceInfo: instanceInfoArb(p),
    extra: jsonRecord,
  }, { requiredKeys: [] }).map((changes) => ({ type: "Update" as const, changes }))

export const deploySpecArb = (p: Pools): fc.Arbitrary<DeploySpec> =>
  rec({
    deployId: pick(p.deployIds),
    keyHash: fc.stringMatching(/^[0-9a-f]{64}$/),
    sealedKey: sealedArb,
    imageSource: fc.constantFrom("file:///images/debian.qcow2", "http://127.0.0.1:8080/cirros.img"),
    imageKind: fc.constantFrom("partition" as const, "whole-disk" as const),
    rootGb: fc.integer({ min: 0, max: 3 }),
    swapMb: fc.integer({ min: 0, max: 512 }),
    ephemeralGb: fc.integer({ min: 0, max: 2 }),
    preserveEphemeral: fc.boolean(),
  }) as fc.Arbitrary<DeploySpec>

const userVerbs: ReadonlyArray<UserVerb> = ["manage", "provide", "clean", "inspect", "adopt", "undeploy", "rescue", "unrescue", "abort"]

/** Deadlines and "now"s from one small set, so a time-out lands before, at and after its deadline. */
export const instants = ["2030-01-01T00:00:00.000Z", "2030-01-01T00:30:00.000Z", "2030-01-01T01:00:00.000Z"]

export const iscsiTargetArb = rec({
  address: fc.constant("127.0.0.1"),
  port: fc.constantFrom(3260, 3261),
  iqn: fc.constantFrom("iqn.2008-10.org.openstack:deploy", "iqn.2024-01.net.example:disk.0"),
  lun: fc.integer({ min: 0, max: 2 }),
  chapUser: fc.constant("ramdisk"),
  chapSecret: sealedArb,
}, { requiredKeys: ["address", "port", "iqn", "lun"] }) as fc.Arbitrary<import("../../src/domain/index.ts").IscsiTarget>

/** The step key a conductor would use for each hardware action, so requests and results meet. */
const stepOf: Record<string, string> = {
  PowerOnRequested: "power", PowerOffRequested: "power", RebootRequested: "power", SoftPowerOffRequested: "power",
  PowerStateChanged: "power", PowerActionFailed: "power",
  BootDeviceRequested: "boot-device", BootDeviceSet: "boot-device", BootDeviceFailed: "boot-device",
  BootConfigRequested: "pxe-config", BootConfigWritten: "pxe-config", BootConfigFailed: "pxe-config",
  ImageWriteRequested: "write-image", ImageWritten: "write-image", ImageWriteFailed: "write-image",
  DiskWipeRequested: "wipe", DiskWiped: "wipe", DiskWipeFailed: "wipe",
  RamdiskReleaseRequested: "release", RamdiskReleased: "release", RamdiskReleaseFailed: "release",
}

/** Mostly the action's own step key; sometimes one from the pool, which may belong to another action. */
const withStep = <B extends { readonly type: string; readonly data: object }>(p: Pools, body: fc.Arbitrary<B>) =>
  fc.tuple(body, fc.nat(3), pick(p.steps)).map(([b, n, other]) => ({ ...b, data: { ...b.data, step: n === 0 ? other : stepOf[b.type]! } }))

export const hardwareRequestArb = (p: Pools): fc.Arbitrary<HardwareRequestBody> =>
  withStep(p, fc.oneof(
    rec({
      type: fc.constantFrom("PowerOnRequested", "PowerOffRequested", "RebootRequested", "SoftPowerOffRequested",
        "DiskWipeRequested", "RamdiskReleaseRequested"),
      data: rec({}),
    }),
    rec({
      type: fc.constant("BootDeviceRequested"),
      data: rec({ device: fc.constantFrom("pxe" as const, "disk" as const), persistent: fc.boolean() }),
    }),
    rec({ type: fc.constant("BootConfigRequested"), data: rec({ label: fc.constantFrom("deploy" as const, "boot" as const, "rescue" as const, null) }) }),
    rec({ type: fc.constant("ImageWriteRequested"), data: rec({ deployId: pick(p.deployIds) }) }),
  )) as fc.Arbitrary<HardwareRequestBody>

export const hardwareResultArb = (p: Pools): fc.Arbitrary<HardwareResultBody> => {
  const durationMs = fc.integer({ min: 0, max: 60_000 })
  return withStep(p, fc.oneof(
    rec({ type: fc.constant("PowerStateChanged"), data: rec({ durationMs, powerState: fc.constantFrom(...powerStates) }) }),
    rec({
      type: fc.constantFrom("PowerActionFailed", "BootDeviceFailed", "BootConfigFailed", "ImageWriteFailed",
        "DiskWipeFailed", "RamdiskReleaseFailed"),
      data: rec({ durationMs, error: word }),
    }),
    rec({ type: fc.constant("BootDeviceSet"), data: rec({ durationMs, warning: fc.option(word, { nil: null }) }) }),
    rec({ type: fc.constantFrom("BootConfigWritten", "DiskWiped", "RamdiskReleased"), data: rec({ durationMs }) }),
    rec({
      type: fc.constant("ImageWritten"),
      data: rec({
        durationMs, deployId: pick(p.deployIds), bytesWritten: fc.nat(),
        rootUuid: fc.option(fc.uuid(), { nil: null }), diskId: fc.option(fc.constant("0x1a2b3c4d"), { nil: null }),
      }),
    }),
  )) as fc.Arbitrary<HardwareResultBody>
}

/** What a conductor records while driving a node (the commands AsConductor may carry). */
export const conductorCommandArb = (p: Pools): fc.Arbitrary<ConductorCommand> =>
  fc.oneof(
    { weight: 3, arbitrary: rec({ type: fc.constant("AwaitCallback" as const), deadline: pick(instants) }) },
    { weight: 2, arbitrary: rec({ type: fc.constant("TimeOutWait" as const), now: pick(instants) }) },
    { weight: 10, arbitrary: rec({ type: fc.constant("Complete" as const), properties: jsonRecord }, { requiredKeys: ["type"] }) },
    { weight: 3, arbitrary: rec({ type: fc.constant("Fail" as const), error: word }) },
    { weight: 4, arbitrary: hardwareRequestArb(p).map((request) => ({ type: "RequestHardware" as const, request })) },
    { weight: 4, arbitrary: hardwareResultArb(p).map((result) => ({ type: "RecordHardware" as const, result })) },
    { weight: 1, arbitrary: rec({ type: fc.constant("ObservePower" as const), powerState: fc.constantFrom(...powerStates, null) }) },
  ) as fc.Arbitrary<ConductorCommand>

export const holders = ["conductor-a", "conductor-b"]

/**
 * Any command a user, a conductor or the ramdisk can send to node `p.nodeId`, weighted towards
 * the ones that move the provision state so that random sequences get deep into the table.
 */
export const nodeCommandArb = (p: Pools): fc.Arbitrary<NodeCommand> =>
  fc.oneof(
    { weight: 2, arbitrary: enrollArb(p) },
    { weight: 1, arbitrary: updateArb(p) },
    { weight: 1, arbitrary: fc.constant({ type: "Delete" as const }) },
    { weight: 2, arbitrary: rec({ type: fc.constant("AddPort" as const), portId: pick(p.portIds), mac: pick(p.macs) }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("RemovePort" as const), portId: pick(p.portIds) }) },
    { weight: 2, arbitrary: rec({ type: fc.constant("SetMaintenance" as const), on: fc.boolean(), reason: fc.option(word, { nil: null }) }) },
    { weight: 12, arbitrary: rec({ type: fc.constant("Provision" as const), verb: pick(userVerbs) }) },
    { weight: 4, arbitrary: rec({ type: fc.constant("Deploy" as const), spec: deploySpecArb(p), rebuild: fc.boolean() }) },
    { weight: 2, arbitrary: rec({ type: fc.constant("AcceptIscsi" as const), deployId: pick(p.deployIds), target: iscsiTargetArb }) },
    { weight: 2, arbitrary: rec({ type: fc.constant("AcceptCallback" as const), data: jsonRecord }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("RejectCallback" as const), reason: word }) },
    { weight: 20, arbitrary: conductorCommandArb(p) },
    {
      weight: 2,
      arbitrary: rec({ type: fc.constant("AcquireLease" as const), holder: pick(holders), now: pick(instants), expiresAt: pick(instants) }),
    },
    { weight: 1, arbitrary: rec({ type: fc.constant("ReleaseLease" as const), holder: pick(holders) }) },
    {
      weight: 4,
      arbitrary: rec({ type: fc.constant("AsConductor" as const), holder: pick(holders), now: pick(instants), command: conductorCommandArb(p) }),
    },
  ) as fc.Arbitrary<NodeCommand>

/** What steering needs to know of a node: a NodeState or a test's model both provide it. */
export interface SteerView {
  readonly revision: number
  readonly deleted: boolean
  readonly state: ProvisionState
  readonly maintenance: boolean
  readonly deploy: { readonly deployId: Uuid; readonly imageWritten: boolean } | null
  readonly waitDeadline: string | null
}

export const steerViewOf = (s: NodeState): SteerView => ({ ...s, state: s.provisionState })

/** A random choice of where to go next, and what to use on the way. */
export interface Steer {
  readonly choice: number
  readonly spec: DeploySpec
  /** The deadline of a wait it starts. */
  readonly when: string
  /** Whether to go as a conductor would, under a lease, and as whom. */
  readonly holder: string | null
  /** Instead of a move: one hardware action, asked for and then answered. */
  readonly hardware: { readonly request: HardwareRequestBody; readonly result: HardwareResultBody } | null
}

/** A request and a result of the same action, on the action's own step key. */
const hardwareRoundTripArb = (p: Pools) =>
  fc.tuple(hardwareRequestArb(p), hardwareResultArb(p))
    .filter(([request, result]) => stepOf[request.type] === stepOf[result.type])
    .map(([request, result]) => {
      const step = stepOf[request.type]!
      const deployId = "deployId" in request.data ? { deployId: request.data.deployId } : {}
      return {
        request: { ...request, data: { ...request.data, step } },
        result: { ...result, data: { ...result.data, step, ...(result.type === "ImageWritten" ? deployId : {}) } },
      } as { request: HardwareRequestBody; result: HardwareResultBody }
    })

export const steerArb = (p: Pools): fc.Arbitrary<Steer> =>
  rec({
    choice: fc.nat(11), spec: deploySpecArb(p), when: pick(instants),
    holder: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: pick(holders) }),
    hardware: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: hardwareRoundTripArb(p) }),
  })

/**
 * Commands that should take the node along the `choice`-th edge out of its current state, built
 * from what is known of it (the running deploy id, a free step key). Random commands alone rarely
 * get past the first few states; these steer sequences deep into the table. They go through
 * decide like any other command: steering only picks them.
 */
export const steerCommands = (m: SteerView, { choice, spec, when, holder, hardware }: Steer): Array<NodeCommand> => {
  const commands: Array<NodeCommand> = hardware === null
    ? userOrConductorCommandsAlong(m, choice, spec, when)
    : [{ type: "RequestHardware", request: hardware.request }, { type: "RecordHardware", result: hardware.result }]
  if (holder === null) return commands
  // As a conductor would: take the lease, then record its steps under it.
  const now = "2030-01-01T00:00:00.000Z"
  return [
    { type: "AcquireLease", holder, now, expiresAt: "2030-01-01T01:00:00.000Z" },
    ...commands.map((c): NodeCommand => (conductorCommands.has(c.type) ? { type: "AsConductor", holder, now, command: c as ConductorCommand } : c)),
  ]
}

const conductorCommands = new Set(["AwaitCallback", "TimeOutWait", "Complete", "Fail", "RequestHardware", "RecordHardware", "ObservePower"])

const userOrConductorCommandsAlong = (m: SteerView, choice: number, spec: DeploySpec, when: string): Array<NodeCommand> => {
  if (m.revision < 0 || m.deleted) return []
  const out = transitions.filter((t) => t.from === m.state)
  const chosen = out[choice % out.length]
  if (chosen === undefined) return []
  const lift: Array<NodeCommand> = m.maintenance ? [{ type: "SetMaintenance", on: false, reason: null }] : []
  const deployId = m.deploy?.deployId ?? spec.deployId
  switch (chosen.verb) {
    case "deploy": case "rebuild":
      return [...lift, { type: "Deploy", spec: { ...spec, preserveEphemeral: spec.preserveEphemeral && m.deploy !== null }, rebuild: chosen.verb === "rebuild" }]
    case "wait": return [{ type: "AwaitCallback", deadline: when }]
    case "resume":
      return m.state === "wait call-back"
        ? [{ type: "AcceptIscsi", deployId, target: { address: "127.0.0.1", port: 3260 as PortNumber, iqn: "iqn.2008-10.org.openstack:deploy" as Iqn, lun: 1 as NonNegativeInt } }]
        : [{ type: "AcceptCallback", data: {} }]
    case "fail":
      return m.waitDeadline !== null && choice % 2 === 0 ? [{ type: "TimeOutWait", now: m.waitDeadline }] : [{ type: "Fail", error: "step failed" }]
    case "done": {
      if (m.state !== "deploying" || m.deploy?.imageWritten) return [{ type: "Complete" }]
      const step = `image-${m.revision}`
      return [
        { type: "RequestHardware", request: { type: "ImageWriteRequested", data: { step, deployId } } },
        { type: "RecordHardware", result: { type: "ImageWritten", data: { step, durationMs: 10, deployId, bytesWritten: 1 as NonNegativeInt, rootUuid: null, diskId: null } } },
        { type: "Complete" },
      ]
    }
    case "clean":
      // Out of deleting, "clean" is the tear-down finishing; a user may also ask for it.
      return m.state === "deleting" && choice % 2 === 0 ? [{ type: "Complete" }] : [...lift, { type: "Provision", verb: "clean" }]
    default: {
      const verb = chosen.verb === "delete" ? "undeploy" : chosen.verb
      return [...lift, { type: "Provision", verb }]
    }
  }
}

/** One event of a fleet's log, as a store would hand it out. */
export interface LoggedEvent extends RecordedNodeEvent {
  readonly nodeId: Uuid
  readonly position: number
}

export const metaAt = (position: number): EventMeta => ({
  occurredAt: new Date(Date.UTC(2030, 0, 1) + position * 1000).toISOString(),
  actor: position % 2 === 0 ? "operator" : "conductor",
  correlationId: `op-${position}`,
  causationId: position > 1 ? `op-${position - 1}` : null,
})

/** A step of a generated log: a random command, or a steer, for node number `node`. */
export type LogStep =
  | { readonly node: number; readonly command: NodeCommand }
  | { readonly node: number; readonly steer: Steer }

/**
 * Runs the steps through decide/evolve and keeps the events of the accepted commands: a valid log.
 * Positions grow strictly, with gaps (as EventStoreDB's do).
 */
export const buildLog = (steps: ReadonlyArray<LogStep>, pools: ReadonlyArray<Pools>): Array<LoggedEvent> => {
  const states = new Map<string, NodeState>()
  const log: Array<LoggedEvent> = []
  let position = 0
  const send = (nodeId: Uuid, command: NodeCommand) => {
    const decision = decide(states.get(nodeId) ?? null, command, nodeId)
    if (E.isLeft(decision)) return
    for (const event of decision.right) {
      position += 1 + (position % 3)
      const meta = metaAt(position)
      const state = evolve(states.get(nodeId) ?? initialState(nodeId), event, meta)
      states.set(nodeId, state)
      log.push({ nodeId, event, meta, revision: state.revision, position })
    }
  }
  for (const step of steps) {
    const { nodeId } = pools[step.node]!
    if ("command" in step) send(nodeId, step.command)
    else {
      const state = states.get(nodeId)
      if (state !== undefined) for (const c of steerCommands(steerViewOf(state), step.steer)) send(nodeId, c)
    }
  }
  return log
}

const logStepArb = (k: number): fc.Arbitrary<LogStep> => {
  const p = poolsFor(k)
  return fc.oneof(
    { weight: 1, arbitrary: nodeCommandArb(p).map((command) => ({ node: k, command })) },
    { weight: 1, arbitrary: steerArb(p).map((steer) => ({ node: k, steer })) },
  )
}

// Built once: arbitraries with string patterns are costly to construct.
const fleetLogArbs = new Map<number, fc.Arbitrary<{ pools: Array<Pools>; log: Array<LoggedEvent> }>>()

/** A valid log of one to four nodes, their commands interleaved; each node is usually enrolled first. */
export const fleetLogArb = (maxSteps = 100): fc.Arbitrary<{ pools: Array<Pools>; log: Array<LoggedEvent> }> => {
  const known = fleetLogArbs.get(maxSteps)
  if (known !== undefined) return known
  const arb = fc.oneof(...[1, 2, 3, 4].map((n) => {
    const pools = Array.from({ length: n }, (_, k) => poolsFor(k))
    const enrolls = fc.tuple(...pools.map((p, k) => fc.option(enrollArb(p).map((command) => ({ node: k, command })), { freq: 8, nil: null })))
    const steps = fc.array(fc.oneof(...pools.map((_, k) => logStepArb(k))), { maxLength: maxSteps, size: "max" })
    return fc.tuple(enrolls, steps).map(([first, rest]) => ({
      pools,
      log: buildLog([...first.filter((e) => e !== null), ...rest], pools),
    }))
  }))
  fleetLogArbs.set(maxSteps, arb)
  return arb
}
