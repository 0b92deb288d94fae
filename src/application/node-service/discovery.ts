// Discovery (ADR 0090): a machine no node knows boots the discovery ramdisk and posts its inventory
// without any key. The post becomes a new node in `enroll` (Ironic's auto_discovered), with the
// inventory's properties, a port per MAC and its BMC address in driver_info; with auto-enroll the
// node also gets the configured driver_info and is managed at once. The caller learns nothing:
// a new machine, a machine some node already owns, and one a concurrent post is discovering all
// get the same answer, and no MAC ever gets a second node.
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import { initialState, type DriverInfo, type Mac, type NodeState, type Uuid } from "../../domain/index.ts"
import { discoveredDriverInfo, plausibleBmcAddress, type DiscoverySettings } from "../discovery/settings.ts"
import { inspectedProperties, inventoryMacs, parseInventory } from "../inspection/inventory.ts"
import { Conflict, InvalidInput, NodeNotFound, type NodeService } from "../node-service.ts"
import { looksSecret } from "../secret-fields.ts"
import type { NodeCore } from "./core.ts"
import { applyRulesToInventory } from "../inspection/apply-rules.ts"
import type { InspectionRules } from "../inspection/rules.ts"

/** What became of a post: a new node, or none because its MACs belong to a node already (or are being discovered). */
export type DiscoveryOutcome = { readonly kind: "discovered"; readonly nodeId: string } | { readonly kind: "known" }

export const discoveryCalls = (core: NodeCore, settings: DiscoverySettings, rules: InspectionRules) => {
  const { fleet, registry, ids, secrets, claiming, context, run, withStore } = core

  /** driver_info for the new node (discoveredDriverInfo); secrets sealed. */
  const driverInfoFor = (bmcAddress: string | null) =>
    Effect.gen(function* () {
      const interfaces = registry.choose(settings.driver, {})
      if (E.isLeft(interfaces)) return yield* Effect.fail(new InvalidInput({ reason: `discovery driver: ${interfaces.left}` }))
      const plain = discoveredDriverInfo(settings, bmcAddress)
      // An address the hardware type refuses (checkInfo) is dropped rather than the machine.
      const info = bmcAddress === null || registry.checkInfo(settings.driver, interfaces.right, plain) === null ? plain : discoveredDriverInfo(settings, null)
      const secret = registry.secretFields(settings.driver, interfaces.right)
      const sealed: Record<string, DriverInfo[string]> = {}
      for (const [key, value] of Object.entries(info)) {
        sealed[key] = typeof value === "string" && (secret.has(key) || looksSecret(key, value)) ? { $sealed: yield* secrets.seal(value) } : value
      }
      return { driverInfo: sealed, interfaces: interfaces.right, bmcAddress: info === plain ? bmcAddress : null }
    })

  const discoverMachine = (raw: unknown, rootDisk: string | undefined, source: string | null) =>
    Effect.gen(function* () {
      if (!settings.enabled) return yield* Effect.fail(new NodeNotFound({ ref: "discovery" }))
      const inventory = parseInventory(raw)
      if (E.isLeft(inventory)) return yield* Effect.fail(new InvalidInput({ reason: inventory.left }))
      const macs = inventoryMacs(inventory.right)
      if (macs.length === 0) return yield* Effect.fail(new InvalidInput({ reason: "inventory: a discovered machine needs at least one interface with a MAC address" }))
      if (rootDisk !== undefined && !inventory.right.disks.some((d) => d.name === rootDisk)) {
        return yield* Effect.fail(new InvalidInput({ reason: `root_disk ${rootDisk} is not one of the inventory's disks` }))
      }
      const known = (): DiscoveryOutcome => ({ kind: "known" })
      if (macs.some((m) => fleet.findByMac(m) !== undefined)) return known()
      const hw = yield* driverInfoFor(plausibleBmcAddress((raw as Record<string, unknown>)["bmc_address"]))
      const nodeId = (yield* ids.uuid) as Uuid
      const ports: Array<{ portId: Uuid; mac: Mac }> = []
      for (const mac of macs) ports.push({ portId: (yield* ids.uuid) as Uuid, mac: mac as Mac })
      // The inspection rules, as Ironic applies them to a discovered machine: plugin_data[auto_discovered] is true (ADR 0143).
      const properties = inspectedProperties(inventory.right, {}, rootDisk)
      const fresh = { ...initialState(nodeId), driver: settings.driver as NodeState["driver"], driverInfo: hw.driverInfo, interfaces: hw.interfaces }
      const applied = yield* applyRulesToInventory(yield* withStore(rules.all), fresh, raw as Record<string, unknown>, properties, registry, secrets, { auto_discovered: true })
      const ctx = yield* context("discovery")
      const created = yield* claiming(macs, (m) => (fleet.findByMac(m) === undefined ? null : `MAC ${m} belongs to a node.`), run(nodeId, {
        type: "Discover", nodeId, driver: settings.driver, driverInfo: hw.driverInfo, interfaces: hw.interfaces,
        properties, inventory: { ...(raw as Record<string, unknown>) }, ...(applied === undefined ? {} : { rules: applied }),
        ...(rootDisk === undefined ? {} : { rootDisk }),
        bmcAddress: hw.bmcAddress, source, autoEnroll: settings.autoEnroll, ports,
      }, ctx)).pipe(
        // Another post of the same machine claimed or took a MAC meanwhile: that one makes the node.
        Effect.map(() => true), Effect.catchTag("Conflict", (_: Conflict) => Effect.succeed(false)),
      )
      if (!created) return known()
      // A rule that failed the post leaves the node in enroll, its last_error saying why.
      if (settings.autoEnroll && applied?.failed === undefined) {
        const manage = yield* context("discovery")
        yield* run(nodeId, { type: "Request", actionId: manage.correlationId, action: { kind: "provision", verb: "manage" } }, manage)
      }
      return { kind: "discovered", nodeId } satisfies DiscoveryOutcome
    })

  const discover: NodeService["Service"]["discover"] = discoverMachine
  return { discover } satisfies Partial<NodeService["Service"]>
}
