// GET /v1/nodes filters (Ironic's), applied to a node's state.
import type { NodeState } from "../../domain/index.ts"
import type { NodeFilter } from "../node-service.ts"
import { instanceUuidOf } from "../projections/fleet.ts"

const same = <A>(wanted: A | undefined, actual: A) => wanted === undefined || wanted === actual

export const matchesFilter = (n: NodeState, f: NodeFilter): boolean =>
  same(f.provisionState, n.provisionState) &&
  same(f.maintenance, n.maintenance) &&
  same(f.driver, n.driver) &&
  (f.associated === undefined || (instanceUuidOf(n) !== null) === f.associated) &&
  same(f.instanceUuid, instanceUuidOf(n) ?? undefined) &&
  same(f.resourceClass, n.resourceClass ?? undefined) &&
  // Ironic keeps conductor groups lower-case and matches them so.
  same(f.conductorGroup?.toLowerCase(), n.conductorGroup ?? "") &&
  same(f.owner, n.owner ?? undefined) &&
  same(f.lessee, n.lessee ?? undefined) &&
  same(f.fault, n.fault ?? undefined) &&
  same(f.retired, n.retired ?? false) &&
  f.chassisUuid === undefined &&
  same(f.conductor, "ironledger") &&
  (f.descriptionContains === undefined || (n.description ?? "").includes(f.descriptionContains))
