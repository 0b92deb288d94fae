// Given/when/then for decide: given the events a node already has, when a command arrives, then
// these events (or this refusal). Also the small event histories the specs start from.
import assert from "node:assert/strict"
import * as E from "fp-ts/lib/Either.js"
import {
  decide, fold,
  type DeploySpec, type DomainError, type EventMeta, type Iqn, type Mac, type NodeCommand, type NodeEvent,
  type NodeState, type NonNegativeInt, type PortNumber, type Uuid,
} from "../../../src/domain/index.ts"

export const nodeId = "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b" as Uuid
export const deployId = "0d3e5f7a-1b2c-4d3e-8f4a-5b6c7d8e9f01" as Uuid
export const otherDeployId = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d" as Uuid
export const mac = "52:54:00:12:34:56" as Mac

const meta = (i: number): EventMeta => ({
  occurredAt: new Date(Date.UTC(2030, 0, 1, 0, 0, i)).toISOString(),
  actor: "spec",
  correlationId: `op-${i}`,
  causationId: null,
})

export const given = (...events: ReadonlyArray<NodeEvent>): NodeState | null =>
  events.length === 0 ? null : fold(nodeId, events.map((event, i) => ({ event, meta: meta(i) })))

export const when = (state: NodeState | null, command: NodeCommand) => decide(state, command, nodeId)

export const thenEvents = (decision: ReturnType<typeof when>, ...expected: ReadonlyArray<NodeEvent>) => {
  if (E.isLeft(decision)) assert.fail(`expected events, got the refusal: ${decision.left.message}`)
  assert.deepEqual(decision.right, expected)
}

export const thenRefused = (
  decision: ReturnType<typeof when>,
  expected: Partial<Omit<DomainError, "message">> & { readonly message?: string | RegExp },
): DomainError => {
  if (E.isRight(decision)) assert.fail(`expected a refusal, got ${JSON.stringify(decision.right)}`)
  const { message, ...fields } = expected
  const error = decision.left
  assert.deepEqual(Object.fromEntries(Object.keys(fields).map((k) => [k, error[k as keyof DomainError]])), fields)
  if (typeof message === "string") assert.equal(error.message, message)
  else if (message !== undefined) assert.match(error.message, message)
  return error
}

// The events of common histories, in order.
export const enrolled: NodeEvent = {
  type: "Enrolled",
  data: {
    nodeId, name: null, driver: "ipmi", driverInfo: { ipmi_address: "127.0.0.1", ipmi_password: { $sealed: "v1.x" } },
    properties: {}, instanceInfo: {}, extra: {},
  },
}
export const manageable: ReadonlyArray<NodeEvent> = [enrolled, { type: "ManageRequested", data: {} }, { type: "Verified", data: {} }]
export const available: ReadonlyArray<NodeEvent> = [...manageable, { type: "ProvideRequested", data: {} }, { type: "CleaningDone", data: {} }]

export const spec = (overrides: Partial<DeploySpec> = {}): DeploySpec => ({
  deployId, keyHash: "ab".repeat(32), sealedKey: { $sealed: "v1.key" }, imageSource: "file:///images/debian.qcow2",
  imageKind: "partition", rootGb: 2 as NonNegativeInt, swapMb: 0 as NonNegativeInt, ephemeralGb: 1 as NonNegativeInt,
  preserveEphemeral: false, ...overrides,
})

export const deploying: ReadonlyArray<NodeEvent> = [...available, { type: "DeployRequested", data: { ...spec(), rebuild: false } }]
export const deadline = "2030-01-01T00:30:00.000Z"
export const waitingCallBack: ReadonlyArray<NodeEvent> = [...deploying, { type: "CallbackAwaited", data: { deadline } }]

export const target = { address: "127.0.0.1", port: 3260 as PortNumber, iqn: "iqn.2008-10.org.openstack:deploy" as Iqn, lun: 1 as NonNegativeInt }

export const imageWritten: ReadonlyArray<NodeEvent> = [
  { type: "ImageWriteRequested", data: { step: "write-image", deployId } },
  {
    type: "ImageWritten",
    data: { step: "write-image", durationMs: 1200, deployId, bytesWritten: 1048576 as NonNegativeInt, rootUuid: null, diskId: null },
  },
]
export const active: ReadonlyArray<NodeEvent> = [...deploying, ...imageWritten, { type: "DeployDone", data: { deployId } }]
/** Active by adoption: never deployed here, so nothing to preserve on a rebuild. */
export const adopted: ReadonlyArray<NodeEvent> = [...manageable, { type: "AdoptRequested", data: {} }, { type: "Adopted", data: {} }]
export const inMaintenance: NodeEvent = { type: "MaintenanceSet", data: { reason: "fan replaced" } }
