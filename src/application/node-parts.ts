// What the application offers on a node's port groups (API 1.23), volume connectors and targets
// (1.32), NMIs (1.29) and on the conductors (1.49): the views and the calls.
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type { ConnectorFields, Mac, PortgroupFields, TargetFields, Uuid } from "../domain/index.ts"
import type { AppError, Page } from "./node-service.ts"

export class ResourceNotFound extends Data.TaggedError("ResourceNotFound")<{ readonly kind: string; readonly ref: string }> {
  override get message() { return `${this.kind} ${this.ref} could not be found.` }
}

interface Stamped {
  readonly uuid: string
  readonly nodeUuid: string
  readonly createdAt: string
  readonly updatedAt: string | null
}

export interface PortgroupView extends Stamped, PortgroupFields {
  /** The ports that belong to it. */
  readonly ports: ReadonlyArray<string>
}
export interface VolumeConnectorView extends Stamped, ConnectorFields {}
export interface VolumeTargetView extends Stamped, TargetFields {}

/** A conductor as the log and this process know it (ADR 0107). */
export interface ConductorView {
  readonly hostname: string
  readonly conductorGroup: string
  /** Holds a running lease, or is this process's own conductor. */
  readonly alive: boolean
  readonly drivers: ReadonlyArray<string>
  readonly lastSeen: string
}

export interface PartFilter {
  readonly nodeRef?: string
  readonly address?: Mac
}

type Call<A> = Effect.Effect<A, AppError>

export interface NodePartsCalls {
  readonly createPortgroup: (input: { readonly nodeRef: string; readonly uuid?: Uuid; readonly fields: PortgroupFields }, actor: string) => Call<PortgroupView>
  /** By UUID or name. */
  readonly portgroup: (ref: string) => Call<PortgroupView>
  readonly portgroups: (filter: PartFilter, page: Page) => Call<ReadonlyArray<PortgroupView>>
  readonly updatePortgroup: (ref: string, changes: Partial<PortgroupFields>, actor: string) => Call<PortgroupView>
  readonly deletePortgroup: (ref: string, actor: string) => Call<void>
  readonly createVolumeConnector: (input: { readonly nodeRef: string; readonly uuid?: Uuid; readonly fields: ConnectorFields }, actor: string) => Call<VolumeConnectorView>
  readonly volumeConnector: (uuid: string) => Call<VolumeConnectorView>
  readonly volumeConnectors: (filter: PartFilter, page: Page) => Call<ReadonlyArray<VolumeConnectorView>>
  readonly updateVolumeConnector: (uuid: string, changes: Partial<ConnectorFields>, actor: string) => Call<VolumeConnectorView>
  readonly deleteVolumeConnector: (uuid: string, actor: string) => Call<void>
  readonly createVolumeTarget: (input: { readonly nodeRef: string; readonly uuid?: Uuid; readonly fields: TargetFields }, actor: string) => Call<VolumeTargetView>
  readonly volumeTarget: (uuid: string) => Call<VolumeTargetView>
  readonly volumeTargets: (filter: PartFilter, page: Page) => Call<ReadonlyArray<VolumeTargetView>>
  readonly updateVolumeTarget: (uuid: string, changes: Partial<TargetFields>, actor: string) => Call<VolumeTargetView>
  readonly deleteVolumeTarget: (uuid: string, actor: string) => Call<void>
  /** Injects a non-maskable interrupt through the node's management interface; fails with the BMC's answer. */
  readonly injectNmi: (ref: string, actor: string) => Call<void>
  readonly conductors: () => Call<ReadonlyArray<ConductorView>>
}
