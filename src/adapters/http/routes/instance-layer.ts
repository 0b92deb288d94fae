// The routes of the instance layer (what Nova's driver and the scheduler use): node traits,
// VIFs, port updates and allocations.
import type { Route } from "../context.ts"
import { traitRoutes } from "./traits.ts"
import { vifRoutes } from "./vifs.ts"
import { allocationRoutes, instanceRoutes } from "./allocations.ts"

export const instanceLayerRoutes: ReadonlyArray<Route> = [...traitRoutes, ...vifRoutes, ...allocationRoutes, ...instanceRoutes]
