// NodeState -> the view the API and CLI show. Secrets are masked here, once, for every reader.
import type { NodeInterfaces, NodeState } from "../../domain/index.ts"
import type { NodeView, PortView } from "../node-service.ts"
import { maskDriverInfo } from "../secret-fields.ts"
import { recordFieldNames, type RecordFields } from "../../domain/index.ts"
import { instanceUuidOf } from "./fleet.ts"

const viewRecordFields = recordFieldNames.filter((k) => k !== "instanceUuid")

/** Built field by field (every view has them in one order): no list of pairs per view. */
const recordOf = (n: NodeState): Omit<RecordFields, "instanceUuid"> => {
  const record: Record<string, unknown> = {}
  for (const k of viewRecordFields) record[k] = n[k] ?? null
  return record as Omit<RecordFields, "instanceUuid">
}

export type Progress = NodeView["deployProgress"]

/** `interfaces`: as the node's hardware type resolves them, where the caller knows (the service does). */
export const toNodeView = (n: NodeState, progress: Progress = null, interfaces: NodeInterfaces = n.interfaces): NodeView => ({
  ...recordOf(n),
  uuid: n.nodeId,
  name: n.name,
  driver: n.driver,
  interfaces,
  automatedClean: n.automatedClean,
  driverInfo: maskDriverInfo(n.driverInfo),
  properties: n.properties,
  instanceInfo: n.instanceInfo,
  extra: n.extra,
  provisionState: n.provisionState,
  targetProvisionState: n.targetProvisionState,
  powerState: n.powerState,
  targetPowerState: n.targetPowerState,
  maintenance: n.maintenance,
  maintenanceReason: n.maintenanceReason,
  lastError: n.lastError,
  consoleEnabled: n.consoleEnabled,
  instanceUuid: instanceUuidOf(n),
  ports: n.ports.map((p) => ({ uuid: p.portId, address: p.mac })),
  deployProgress: progress,
  createdAt: n.createdAt,
  updatedAt: n.updatedAt,
  provisionUpdatedAt: n.provisionUpdatedAt,
  revision: n.revision,
  // Ironic marks a node its discovery made with auto_discovered (ADR 0090).
  ...(n.discovered === undefined ? {} : {
    driverInternalInfo: { auto_discovered: true, discovered_at: n.discovered.at, discovered_bmc_address: n.discovered.bmcAddress, auto_enrolled: n.discovered.autoEnroll },
  }),
  fault: n.fault ?? null,
})

export const portViews = (n: NodeState): ReadonlyArray<PortView> =>
  n.ports.map((p) => ({
    uuid: p.portId, address: p.mac, nodeUuid: n.nodeId, createdAt: p.addedAt, updatedAt: p.updatedAt ?? null,
    extra: p.extra ?? {}, pxeEnabled: p.pxeEnabled ?? true, localLinkConnection: p.localLinkConnection ?? {},
    physicalNetwork: p.physicalNetwork ?? null, vifId: p.vifId ?? null,
    portgroupId: p.portgroupId ?? null, isSmartnic: p.isSmartnic ?? false,
  }))
