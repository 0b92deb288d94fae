// Table-driven routing: the first route whose segments match wins, so fixed segments
// ("detail") are listed before captures (":node"). A path that matches only with another
// method is a 405 with Allow.
import type { Route } from "./context.ts"
import { driverRoutes } from "./routes/drivers.ts"
import { fleetRoutes } from "./routes/fleet.ts"
import { historyRoutes } from "./routes/history.ts"
import { metricsRoutes } from "./routes/metrics.ts"
import { nodeRoutes } from "./routes/nodes.ts"
import { portRoutes } from "./routes/ports.ts"
import { ramdiskRoutes } from "./routes/ramdisk.ts"
import { rootRoutes } from "./routes/root.ts"
import { stateRoutes } from "./routes/states.ts"
import { biosRoutes } from "./routes/bios.ts"
import { consoleRoutes } from "./routes/console.ts"
import { instanceLayerRoutes } from "./routes/instance-layer.ts"
import { inventoryRoutes } from "./routes/inventory.ts"
import { discoveryRoutes } from "./routes/discovery.ts"
import { apiExtraRoutes } from "./routes/api-extras.ts"
import { portgroupRoutes } from "./routes/portgroups.ts"
import { volumeRoutes } from "./routes/volume.ts"
import { managementRoutes } from "./routes/management.ts"
import { raidRoutes } from "./routes/raid.ts"
import { ramdiskToolsRoutes } from "./routes/ramdisk-tools.ts"

export const routes: ReadonlyArray<Route> = [
  ...rootRoutes, ...nodeRoutes, ...stateRoutes, ...historyRoutes, ...ramdiskRoutes, ...portRoutes, ...driverRoutes,
  ...fleetRoutes, ...metricsRoutes, ...biosRoutes, ...consoleRoutes, ...instanceLayerRoutes,
  ...inventoryRoutes,
  ...discoveryRoutes,
  ...inventoryRoutes, ...apiExtraRoutes,
  ...portgroupRoutes, ...volumeRoutes, ...managementRoutes,
  ...raidRoutes, ...ramdiskToolsRoutes,
]

interface Compiled {
  readonly route: Route
  readonly segments: ReadonlyArray<string>
}

const split = (path: string): ReadonlyArray<string> => path.split("/").filter((s) => s !== "")

const compiled: ReadonlyArray<Compiled> = routes.map((route) => ({ route, segments: split(route.pattern) }))

const matchSegments = (pattern: ReadonlyArray<string>, actual: ReadonlyArray<string>): Record<string, string> | null => {
  if (pattern.length !== actual.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!
    if (p.startsWith(":")) params[p.slice(1)] = actual[i]!
    else if (p !== actual[i]) return null
  }
  return params
}

export type Match =
  | { readonly kind: "found"; readonly route: Route; readonly params: Record<string, string> }
  | { readonly kind: "method"; readonly allow: ReadonlyArray<string> }
  | { readonly kind: "none" }

/** `segments` are already percent-decoded. */
export const matchRoute = (method: string, segments: ReadonlyArray<string>): Match => {
  const allow = new Set<string>()
  for (const c of compiled) {
    const params = matchSegments(c.segments, segments)
    if (params === null) continue
    if (c.route.method === method) return { kind: "found", route: c.route, params }
    allow.add(c.route.method)
  }
  return allow.size > 0 ? { kind: "method", allow: [...allow] } : { kind: "none" }
}
