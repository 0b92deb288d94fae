// Routes of the later API versions (events 1.54, allocation PATCH 1.57, deploy templates 1.55, ...).
import type { Route } from "../context.ts"
import { allocationPatchRoutes } from "./allocation-patch.ts"
import { eventRoutes } from "./events.ts"
import { deployTemplateRoutes } from "./deploy-templates.ts"
import { indicatorRoutes } from "./indicators.ts"
import { inspectionRuleRoutes } from "./inspection-rules.ts"

export const apiExtraRoutes: ReadonlyArray<Route> = [...eventRoutes, ...allocationPatchRoutes, ...deployTemplateRoutes, ...indicatorRoutes, ...inspectionRuleRoutes]
