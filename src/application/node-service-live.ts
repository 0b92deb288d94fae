// NodeService over the ports: commands go through execute() (decide + optimistic append), queries
// read the in-memory Fleet projection, which the command path keeps current for read-your-writes.
// Each group of use cases is a module of ./node-service/ over the shared core.
import * as Effect from "effect/Effect"
import type { Registry } from "./hardware/registry.ts"
import type { AppError, NodeService } from "./node-service.ts"
import type { Fleet } from "./projections/fleet.ts"
import { makeNodeCore, type ConductorHandle } from "./node-service/core.ts"
import { nodeHistory } from "./node-service/history.ts"
import { nodePorts } from "./node-service/ports.ts"
import { nodeAllocations } from "./node-service/allocations.ts"
import { provisioning } from "./node-service/provisioning.ts"
import { ramdiskCalls } from "./node-service/ramdisk.ts"
import { nodeRecords } from "./node-service/records.ts"
import { nodeConsole } from "./node-service/console.ts"
import { agentStepCalls } from "./node-service/agent-steps.ts"
import { inspectionCalls } from "./node-service/inspection.ts"
import { discoveryCalls } from "./node-service/discovery.ts"
import { discoveryOff, type DiscoverySettings } from "./discovery/settings.ts"
import { nodeExtras } from "./node-service/node-extras.ts"
import { deployTemplateUses } from "./node-service/deploy-templates.ts"
import { nodeIndicators } from "./node-service/indicators.ts"
import { makeDeployTemplates } from "./deploy-templates.ts"
import { makeInspectionRules } from "./inspection/rules.ts"
import { inspectionRuleUses } from "./node-service/inspection-rules.ts"
import { rescueCalls } from "./node-service/rescue.ts"
import { nodeParts, type SelfConductor } from "./node-service/node-parts.ts"

export type { ConductorHandle } from "./node-service/core.ts"

export const makeNodeService = (fleet: Fleet, conductor: ConductorHandle, registry: Registry, refusalWindowMs = 60_000, discovery: DiscoverySettings = discoveryOff, self?: SelfConductor) =>
  Effect.gen(function* () {
    const core = yield* makeNodeCore(fleet, conductor, registry)
    const templates = makeDeployTemplates()
    const rules = makeInspectionRules()
    const service: NodeService["Service"] = {
      ...nodeRecords(core),
      ...provisioning(core, templates),
      ...(yield* ramdiskCalls(core, refusalWindowMs)),
      ...nodePorts(core),
      ...nodeAllocations(core),
      ...nodeHistory(core),
      ...nodeConsole(core),
      ...agentStepCalls(core),
      ...inspectionCalls(core, rules),
      ...discoveryCalls(core, discovery, rules),
      ...nodeExtras(core),
      ...deployTemplateUses(core, templates),
      ...nodeIndicators(core),
      ...rescueCalls(core),
      ...nodeParts(core, self),
      ...inspectionRuleUses(core, rules),
    }
    return service satisfies { [K in keyof NodeService["Service"]]: (...args: never[]) => Effect.Effect<unknown, AppError> }
  })
