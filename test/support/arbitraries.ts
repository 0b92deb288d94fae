// fast-check arbitraries for node commands. Steering (steering.ts) and whole logs (fleet-log.ts) build on them.
// Ids, MACs, names, deploy ids and step keys come from small per-node pools, so random sequences
// collide often enough to hit duplicates, matching deploy ids and paired hardware steps.
import fc from "fast-check"
import {
  powerStates, hardwareDeviceOf, queuedVerbs, type QueuedAction,
  type ConductorCommand, type DeploySpec, type DriverInfo, type HardwareRequestBody, type HardwareResultBody, type IscsiTarget,
  type Mac, type NodeCommand, type NodeName, type Sealed, type UserVerb, type Uuid,
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
  /** The NIC an inspection ramdisk reports that no command enrolled: a port inspection adds. */
  readonly inspectedNic: { readonly portId: Uuid; readonly mac: Mac }
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
  inspectedNic: { portId: uuidOf(2, k, 9), mac: `52:54:00:${hex(k, 2)}:01:00` as Mac },
})

/** fc.record, always with a plain prototype: the domain's objects are plain, and JSON gives plain ones back. */
export const rec: typeof fc.record = ((model: never, constraints?: object) =>
  fc.record(model, { ...constraints, noNullPrototype: true } as never)) as typeof fc.record

export const pick = <T>(values: ReadonlyArray<T>) => fc.constantFrom(...values)

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

/** The node fields enrollment sets and updates change (as in events.ts). */
const nodeFieldArbs = (p: Pools) => ({
  name: fc.option(pick(p.names), { nil: null }),
  driver: fc.constantFrom("ipmi" as const, "fake-hardware" as const),
  driverInfo: driverInfoArb(),
  properties: jsonRecord,
  instanceInfo: instanceInfoArb(p),
  extra: jsonRecord,
})

export const enrollArb = (p: Pools): fc.Arbitrary<NodeCommand> =>
  rec(nodeFieldArbs(p)).map((r) => ({ type: "Enroll" as const, nodeId: p.nodeId, ...r }))

/** A discovery post of an unknown machine (ADR 0090): its ports from the pools, MACs distinct. */
export const discoverArb = (p: Pools): fc.Arbitrary<NodeCommand> =>
  rec({
    driver: fc.constantFrom("ipmi" as const, "fake-hardware" as const),
    driverInfo: driverInfoArb(),
    properties: jsonRecord,
    bmcAddress: fc.option(fc.constantFrom("10.0.0.5", "192.168.1.20"), { nil: null }),
    source: fc.option(fc.constant("10.213.0.100"), { nil: null }),
    autoEnroll: fc.boolean(),
    ports: fc.uniqueArray(fc.integer({ min: 0, max: p.macs.length - 1 }), { minLength: 1, maxLength: p.macs.length })
      .map((is) => is.map((i) => ({ portId: p.portIds[i]!, mac: p.macs[i]! }))),
  }).map((r) => ({ type: "Discover" as const, nodeId: p.nodeId, interfaces: {}, inventory: { cpu: { count: 1, architecture: "x86_64" } }, ...r }))

/** The discovery of the machine an enroll describes: its fields, the pools' first MAC, no BMC address. */
export const discoveryOf = (p: Pools, c: Extract<NodeCommand, { type: "Enroll" }>): NodeCommand => ({
  type: "Discover", nodeId: p.nodeId, driver: c.driver, driverInfo: c.driverInfo, interfaces: {}, properties: c.properties,
  inventory: { cpu: { count: 1, architecture: "x86_64" } }, bmcAddress: null, source: null, autoEnroll: false,
  ports: [{ portId: p.portIds[0]!, mac: p.macs[0]! }],
})

/** Record fields an update may set: what GET /v1/nodes' filters read besides the states. */
const recordFieldArbs = () => ({
  owner: fc.option(fc.constantFrom("alice", "bob"), { nil: null }),
  lessee: fc.option(fc.constantFrom("alice", "bob"), { nil: null }),
  resourceClass: fc.option(fc.constantFrom("baremetal", "gold"), { nil: null }),
  conductorGroup: fc.constantFrom("", "rack1"),
  description: fc.option(fc.constantFrom("rack 1", "spare"), { nil: null }),
})

const updateArb = (p: Pools): fc.Arbitrary<NodeCommand> =>
  rec({ ...nodeFieldArbs(p), ...recordFieldArbs() }, { requiredKeys: [] }).map((changes) => ({ type: "Update" as const, changes }))

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
}, { requiredKeys: ["address", "port", "iqn", "lun"] }) as fc.Arbitrary<IscsiTarget>

/** The step key a conductor would use for each hardware action, so requests and results meet. */
const stepOf: Record<string, string> = hardwareDeviceOf

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
    rec({
      type: fc.constant("CleanStepRequested"),
      data: rec({
        name: fc.constantFrom("deploy.erase_devices", "deploy.erase_devices_metadata", "bios.apply_configuration"),
        args: jsonRecord, where: fc.constantFrom("in-band" as const, "out-of-band" as const),
      }),
    }),
  )) as fc.Arbitrary<HardwareRequestBody>

export const hardwareResultArb = (p: Pools): fc.Arbitrary<HardwareResultBody> => {
  const durationMs = fc.integer({ min: 0, max: 60_000 })
  return withStep(p, fc.oneof(
    rec({ type: fc.constant("PowerStateChanged"), data: rec({ durationMs, powerState: fc.constantFrom(...powerStates) }) }),
    rec({
      type: fc.constantFrom("PowerActionFailed", "BootDeviceFailed", "BootConfigFailed", "ImageWriteFailed",
        "DiskWipeFailed", "RamdiskReleaseFailed", "CleanStepFailed"),
      data: rec({ durationMs, error: word }),
    }),
    rec({ type: fc.constant("CleanStepDone"), data: rec({ durationMs, summary: word, details: jsonRecord }, { requiredKeys: ["durationMs", "summary"] }) }),
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
    { weight: 2, arbitrary: rec({ type: fc.constant("IssueRamdiskKey" as const), keyHash: word, sealedKey: sealedArb }) },
    { weight: 8, arbitrary: fc.constant({ type: "StartQueued" as const }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("CacheBiosSettings" as const), settings: fc.array(rec({ name: word, value: fc.option(word, { nil: null }) }), { maxLength: 3 }) }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("CacheFirmwareComponents" as const), components: fc.array(rec({ component: word, version: word }), { maxLength: 2 }) }) },
  ) as fc.Arbitrary<ConductorCommand>

export const holders = ["conductor-a", "conductor-b"]

/** A power or provision request as a user sends it (a small pool of ids, so some repeat). */
export const queuedActionArb = (p: Pools): fc.Arbitrary<QueuedAction> =>
  fc.oneof(
    { weight: 3, arbitrary: rec({ kind: fc.constant("power" as const), request: fc.constantFrom("PowerOnRequested" as const, "PowerOffRequested" as const, "RebootRequested" as const, "SoftPowerOffRequested" as const) }) },
    { weight: 4, arbitrary: rec({ kind: fc.constant("provision" as const), verb: pick(queuedVerbs) }) },
    { weight: 2, arbitrary: rec({ kind: fc.constant("deploy" as const), spec: deploySpecArb(p), rebuild: fc.boolean() }) },
  )
const requestArb = (p: Pools): fc.Arbitrary<NodeCommand> =>
  rec({ type: fc.constant("Request" as const), actionId: fc.constantFrom("act-1", "act-2", "act-3", "act-4"), action: queuedActionArb(p) })

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
    { weight: 1, arbitrary: rec({ type: fc.constant("RejectCallback" as const), reason: word })
      // count and sources derived from the reason, so the draw of random values stays as it was.
      .map((c) => ({ ...c, count: c.reason.length, sources: c.reason.split(" ").filter((w) => w !== "") })) },
    { weight: 2, arbitrary: rec({ type: fc.constant("AcceptCleaningIscsi" as const), target: iscsiTargetArb }) },
    { weight: 2, arbitrary: rec({ type: fc.constant("AcceptRescueReady" as const), address: fc.constant("10.0.0.9") }, { requiredKeys: ["type"] }) },
    { weight: 20, arbitrary: conductorCommandArb(p) },
    {
      weight: 2,
      arbitrary: rec({ type: fc.constant("AcquireLease" as const), holder: pick(holders), now: pick(instants), expiresAt: pick(instants) }),
    },
    { weight: 1, arbitrary: rec({ type: fc.constant("ReleaseLease" as const), holder: pick(holders) }) },
    { weight: 10, arbitrary: requestArb(p) },
    {
      weight: 4,
      arbitrary: rec({ type: fc.constant("AsConductor" as const), holder: pick(holders), now: pick(instants), command: conductorCommandArb(p) }),
    },
  ) as fc.Arbitrary<NodeCommand>

/** A request and a result of the same action, on the action's own step key. */
export const hardwareRoundTripArb = (p: Pools) =>
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

/**
 * The serial console's commands (switch on/off, connections opened and closed). Kept apart from
 * nodeCommandArb so the lifecycle walks keep their draws; the fleet logs mix them in.
 */
export const consoleCommandArb: fc.Arbitrary<NodeCommand> = fc.oneof(
  { weight: 2, arbitrary: fc.boolean().map((on) => ({ type: "SetConsole" as const, on })) },
  {
    weight: 1,
    arbitrary: fc.record({ connection: word, via: fc.constantFrom("tcp", "websocket"), peer: word, writer: fc.boolean() })
      .map((data) => ({ type: "OpenConsoleConnection" as const, data })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ connection: word, via: fc.constantFrom("tcp", "websocket"), peer: word, durationMs: fc.nat() })
      .map((data) => ({ type: "CloseConsoleConnection" as const, data })),
  },
)
/** The instance layer's commands: port settings, VIFs, allocations (outside the lifecycle model). */
export const instanceLayerCommandArb = (p: Pools): fc.Arbitrary<NodeCommand> =>
  fc.oneof(
    { weight: 1, arbitrary: rec({
      type: fc.constant("UpdatePort" as const), portId: pick(p.portIds),
      changes: rec({ extra: jsonRecord, pxeEnabled: fc.boolean(), physicalNetwork: fc.option(word, { nil: null }) }, { requiredKeys: [] }),
    }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("AttachVif" as const), vifId: fc.constantFrom("vif-a", "vif-b") }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("DetachVif" as const), vifId: fc.constantFrom("vif-a", "vif-b") }) },
    { weight: 3, arbitrary: rec({
      type: fc.constant("AssignAllocation" as const),
      allocation: rec({
        allocationId: fc.constant(p.instanceIds[0]!), name: fc.option(word, { nil: null }), resourceClass: fc.option(word, { nil: null }),
        traits: fc.array(fc.constantFrom("CUSTOM_A", "CUSTOM_B"), { maxLength: 2 }), candidateNodes: fc.constant([]), extra: jsonRecord,
        owner: fc.option(word, { nil: null }), properties: jsonRecord, backfill: fc.boolean(),
      }),
    }) },
    { weight: 3, arbitrary: rec({ type: fc.constant("RemoveAllocation" as const), allocationId: fc.constant(p.instanceIds[0]!) }) },
  ) as fc.Arbitrary<NodeCommand>

/** Commands of the later API versions: allocation PATCH, one trait at a time, faults, network events. */
export const nodeExtrasCommandArb = (p: Pools): fc.Arbitrary<NodeCommand> =>
  fc.oneof(
    { weight: 3, arbitrary: rec({
      type: fc.constant("UpdateAllocation" as const), allocationId: fc.constant(p.instanceIds[0]!),
      name: fc.option(word, { nil: null }), extra: jsonRecord,
    }, { requiredKeys: ["type", "allocationId"] }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("RecordIndicator" as const), component: fc.constant("system"), name: fc.constant("led"), state: fc.constantFrom("on", "off", "blinking") }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("AddTrait" as const), trait: fc.constantFrom("CUSTOM_A", "CUSTOM_B"), max: fc.constant(50) }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("RemoveTrait" as const), trait: fc.constantFrom("CUSTOM_A", "CUSTOM_B") }) },
    { weight: 3, arbitrary: rec({ type: fc.constant("RecordFault" as const), fault: fc.constantFrom("power failure" as const, "clean failure" as const), reason: word }) },
    { weight: 3, arbitrary: rec({ type: fc.constant("ClearFault" as const), fault: fc.constantFrom("power failure" as const, "clean failure" as const) }) },
    { weight: 1, arbitrary: rec({
      type: fc.constant("RecordNetworkEvent" as const),
      event: rec({
        event: fc.constantFrom("network.bind_port", "network.unbind_port"), portId: fc.uuid(), macAddress: fc.constantFrom("52:54:00:00:00:01", "52:54:00:00:00:02"),
        status: word, deviceId: fc.option(fc.uuid(), { nil: null }), hostId: fc.constant(null), vnicType: fc.option(word, { nil: null }),
      }),
    }) },
  ) as fc.Arbitrary<NodeCommand>
/** Port groups, volume connectors and targets, NMIs (ADR 0105, 0106): records beside the lifecycle. */
export const nodePartsCommandArb = (p: Pools): fc.Arbitrary<NodeCommand> => {
  // Names and connector ids end in the node's number: unique across the fleet, as the pools are.
  const k = Number.parseInt(p.nodeId.slice(9, 13), 16)
  const groupId = uuidOf(5, k, 0)
  const connectorId = uuidOf(6, k, 0)
  const targetId = uuidOf(7, k, 0)
  const groupFields = rec({
    address: fc.constant(null), name: fc.option(word.map((w) => `${w.replace(/ /g, "-")}-${k}`), { nil: null }),
    mode: pick(["active-backup", "802.3ad"]), properties: jsonRecord, standalonePortsSupported: fc.boolean(), extra: jsonRecord,
  })
  const target = rec({ volumeType: pick(["iscsi", "fibre_channel"]), volumeId: word, bootIndex: fc.nat({ max: 3 }), properties: jsonRecord, extra: jsonRecord })
  return fc.oneof(
    { weight: 2, arbitrary: rec({ type: fc.constant("CreatePortgroup" as const), portgroupId: fc.constant(groupId), fields: groupFields }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("UpdatePortgroup" as const), portgroupId: fc.constant(groupId), changes: rec({ mode: pick(["balance-rr", "802.3ad"]), extra: jsonRecord }, { requiredKeys: [] }) }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("DeletePortgroup" as const), portgroupId: fc.constant(groupId) }) },
    { weight: 2, arbitrary: rec({ type: fc.constant("CreateVolumeConnector" as const), uuid: fc.constant(connectorId), fields: rec({ type: pick(["iqn", "wwpn"] as const), connectorId: word.map((w) => `${w}-${k}`), extra: jsonRecord }) }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("UpdateVolumeConnector" as const), uuid: fc.constant(connectorId), changes: rec({ extra: jsonRecord }) }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("DeleteVolumeConnector" as const), uuid: fc.constant(connectorId) }) },
    { weight: 2, arbitrary: rec({ type: fc.constant("CreateVolumeTarget" as const), uuid: fc.constant(targetId), fields: target }) },
    { weight: 2, arbitrary: rec({ type: fc.constant("UpdateVolumeTarget" as const), uuid: fc.constant(targetId), changes: rec({ volumeId: word }) }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("DeleteVolumeTarget" as const), uuid: fc.constant(targetId) }) },
    // Connectors and targets change only while the node is off: the BMC reporting so makes that reachable.
    { weight: 2, arbitrary: fc.constant({ type: "ObservePower" as const, powerState: "power off" as const }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("RequestNmi" as const), interface: pick(["ipmitool", "redfish"]) }) },
    { weight: 1, arbitrary: rec({ type: fc.constant("RecordNmi" as const), error: fc.option(word, { nil: null }), durationMs: fc.nat({ max: 5000 }) }) },
  ) as fc.Arbitrary<NodeCommand>
}
