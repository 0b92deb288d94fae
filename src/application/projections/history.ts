// A node's history in readable form: every event, what it did, who asked, and how long each step took.
import { actionName, evolve, initialState, type NodeEvent, type NodeState, type RecordedNodeEvent, type Uuid } from "../../domain/index.ts"
import type { HistoryEntry } from "../node-service.ts"
import { MASK } from "../secret-fields.ts"

export interface HistoryInput extends RecordedNodeEvent {
  readonly position: number
}

const failureTypes = /Failed$|Rejected$|TimedOut$|Dropped$/

/** Replaces sealed secrets anywhere in event data with the mask, so history never shows ciphertext either. */
const maskSealed = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(maskSealed)
  if (value !== null && typeof value === "object") {
    if ("$sealed" in value) return MASK
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSealed(v)]))
  }
  return value
}

export const summarize = (e: NodeEvent, after: NodeState): string => {
  switch (e.type) {
    case "Enrolled": return `enrolled ${e.data.name ?? e.data.nodeId} with driver ${e.data.driver}`
    case "NodeUpdated": return `updated ${Object.keys(e.data).join(", ")}`
    case "PortAdded": return `port ${e.data.mac} added`
    case "PortRemoved": return `port ${e.data.mac} removed`
    case "PortUpdated": return `port ${e.data.portId} updated: ${Object.keys(e.data.changes).join(", ")}`
    case "AllocationAssigned": return `allocation ${e.data.allocationId}${e.data.name === null ? "" : ` (${e.data.name})`} ${e.data.backfill ? "backfilled" : "assigned"}`
    case "AllocationRemoved": return `allocation ${e.data.allocationId} removed`
    case "AllocationUpdated": return `allocation ${e.data.allocationId} updated: ${Object.keys(e.data).filter((k) => k !== "allocationId").join(", ")}`
    case "FaultRecorded": return `fault "${e.data.fault}": maintenance on: ${e.data.reason}`
    case "FaultCleared": return `fault "${e.data.fault}" cleared: maintenance off`
    case "IndicatorSet": return `indicator ${e.data.name}@${e.data.component} set ${e.data.state}`
    case "NetworkEventReceived": return `${e.data.event} for Neutron port ${e.data.portId} (${e.data.macAddress}): ${e.data.status}`
    case "VifAttached": return `VIF ${e.data.vifId} attached to port ${e.data.portId}`
    case "VifDetached": return `VIF ${e.data.vifId} detached from port ${e.data.portId}`
    case "MaintenanceSet": return `maintenance on${e.data.reason ? `: ${e.data.reason}` : ""}`
    case "MaintenanceCleared": return "maintenance off"
    case "DeployRequested":
      return `${e.data.rebuild ? "rebuild" : "deploy"} of ${e.data.imageSource} requested (deploy ${e.data.deployId}` +
        `${e.data.preserveEphemeral ? ", keeping the ephemeral partition" : ""}` +
        `${e.data.configDrive ? `, config drive sha256 ${e.data.configDrive.sha256.slice(0, 12)}, ${e.data.configDrive.bytes} bytes` : ""})`
    case "CallbackAwaited": return `waiting for the ramdisk until ${e.data.deadline}`
    case "IscsiReady": return `ramdisk exported ${e.data.target.iqn} at ${e.data.target.address}:${e.data.target.port}`
    case "CallbackRejected":
      return e.data.count === 1
        ? `ramdisk call-back refused: ${e.data.reason}`
        : `${e.data.count} more ramdisk call-backs refused${e.data.sources.length > 0 ? ` (from ${e.data.sources.join(", ")})` : ""}, the last: ${e.data.reason}`
    case "WaitTimedOut": return `no call-back before ${e.data.deadline}`
    case "ImageWritten":
      return `image written: ${e.data.bytesWritten} bytes${e.data.rootUuid ? `, root UUID ${e.data.rootUuid}` : ""}`
    case "DeployDone": return `deploy ${e.data.deployId} done: node active`
    case "PowerStateChanged": return `power is now ${e.data.powerState}`
    case "PowerStateObserved": return `BMC reports ${e.data.powerState ?? "unknown power state"}`
    case "BootDeviceRequested": return `boot device ${e.data.device}${e.data.persistent ? " (persistent)" : ""} requested`
    case "BootDeviceSet": return `boot device set${e.data.warning ? ` (warning: ${e.data.warning})` : ""}`
    case "BootConfigRequested": return e.data.label ? `PXE config "${e.data.label}" requested` : "PXE config removal requested"
    case "CleanStepRequested": return `${e.data.step.includes(":deploy-step:") ? "deploy" : "clean"} step ${e.data.name} requested (${e.data.where})`
    case "CleanStepDone": return `clean step done: ${e.data.summary}`
    case "Inspected": return e.data.changes === undefined
      ? `inspected: ${Object.keys(e.data.properties).join(", ") || "no new properties"}`
      : `inspected: ${e.data.changes.map((c) => `${c.property} ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`).join(", ") || "nothing changed"}`
    case "InventoryReceived": return `inventory received (${inventorySummary(e.data.inventory)})`
    case "InspectionRulesApplied": return e.data.rules.length === 0 && e.data.failed === undefined ? "no inspection rule matched"
      : `inspection rules: ${e.data.rules.map((r) => `${r.description ?? r.uuid}: ${r.did.join("; ") || "no action"}`).join(" | ")}${e.data.failed === undefined ? "" : ` -- ${e.data.failed}`}`
    case "ActionQueued": return `${actionName(e.data.action)} queued (action ${e.data.actionId}, ${after.queue.length} waiting)`
    case "QueuedActionStarted": return `queued action ${e.data.actionId} started`
    case "QueuedActionDropped": return `queued action ${e.data.actionId} dropped: ${e.data.reason}`
    case "BiosSettingsCached": return `BMC reports ${e.data.settings.length} BIOS settings`
    case "FirmwareComponentsCached": return `BMC reports firmware ${e.data.components.map((c) => `${c.component} ${c.version}`).join(", ") || "none"}`
    case "PortgroupCreated": return `port group ${e.data.fields.name ?? e.data.portgroupId} created (mode ${e.data.fields.mode})`
    case "PortgroupUpdated": return `port group ${e.data.portgroupId} updated: ${Object.keys(e.data.changes).join(", ")}`
    case "PortgroupDeleted": return `port group ${e.data.portgroupId} deleted`
    case "VolumeConnectorCreated": return `volume connector ${e.data.fields.type} ${e.data.fields.connectorId} created`
    case "VolumeTargetCreated": return `volume target ${e.data.fields.volumeType} ${e.data.fields.volumeId} (boot index ${e.data.fields.bootIndex}) created`
    case "NmiRequested": return `NMI requested through ${e.data.interface}`
    case "NmiInjected": return `NMI injected (${e.data.durationMs} ms)`
    default: {
      const data = e.data as { error?: unknown }
      const words = e.type.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()
      const state = after.provisionState
      return typeof data.error === "string" ? `${words}: ${data.error}` : `${words} (now ${state})`
    }
  }
}

/** Builds the history of one node from its events, oldest first. */
export const historyOf = (nodeId: string, events: Iterable<HistoryInput>): Array<HistoryEntry> => {
  const entries: Array<HistoryEntry> = []
  const requestedAt = new Map<string, number>()
  let state = initialState(nodeId as Uuid)
  let previousAt: number | null = null
  // The instance an operation was for: every event of that operation carries it, tear down included.
  const instanceOf = new Map<string, string>()
  for (const r of events) {
    const before = state
    state = evolve(state, r.event, r.meta)
    // Stored with the event since ADR 0047; worked out here for older logs and for an operation's
    // events after the instance left the node (the cleaning after a tear down).
    const instance = r.meta.instanceUuid ?? instanceOf.get(r.meta.correlationId) ?? state.instanceUuid ?? before.instanceUuid ?? null
    if (instance !== null) instanceOf.set(r.meta.correlationId, instance)
    const at = Date.parse(r.meta.occurredAt)
    const data = r.event.data as Record<string, unknown>
    const step = typeof data["step"] === "string" ? data["step"] : null
    let durationMs: number | null = previousAt === null ? null : at - previousAt
    if (step !== null) {
      if (r.event.type.endsWith("Requested")) requestedAt.set(step, at)
      else if (typeof data["durationMs"] === "number") durationMs = data["durationMs"]
      else if (requestedAt.has(step)) durationMs = at - requestedAt.get(step)!
    }
    const failed = failureTypes.test(r.event.type)
    entries.push({
      revision: r.revision,
      position: r.position,
      event: r.event.type,
      occurredAt: r.meta.occurredAt,
      actor: r.meta.actor,
      correlationId: r.meta.correlationId,
      causationId: r.meta.causationId,
      summary: summarize(r.event, state),
      severity: failed ? "error" : "info",
      provisionState: state.provisionState,
      instanceUuid: instance,
      durationMs,
      data: maskSealed(data) as Record<string, unknown>,
    })
    previousAt = at
  }
  return entries
}

/** CPUs, memory, disks and NICs of a posted inventory, in a few words. */
const inventorySummary = (inv: Record<string, unknown>): string => {
  const cpu = inv["cpu"] as { count?: unknown; architecture?: unknown } | undefined
  const memory = inv["memory"] as { physical_mb?: unknown } | undefined
  const count = (k: string) => (Array.isArray(inv[k]) ? (inv[k] as unknown[]).length : 0)
  return `${String(cpu?.count ?? "?")} ${String(cpu?.architecture ?? "?")} CPUs, ${String(memory?.physical_mb ?? "?")} MiB, ${count("disks")} disks, ${count("interfaces")} NICs`
}
