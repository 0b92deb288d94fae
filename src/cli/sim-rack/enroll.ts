// The rack's machines as nodes: enrolled once by name (driver "ipmi", one port with the machine's
// MAC, a default instance_info deploying the sample image), then kept pointing at this start's BMCs.
// Machines whose node was powered on are powered on again: the rack stopped with the service, the
// "hardware" did not mean to.
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { NodeService, NodeView } from "../../application/node-service.ts"
import type { Mac, NodeName } from "../../domain/index.ts"
import type { PowerDriver } from "../../ports/power-driver.ts"
import type { RackImages } from "./images.ts"
import { RACK_DISK_GB, type RackMachine } from "./rack.ts"

const ACTOR = "serve:sim"
/** ipmi_sim takes commands back to back; real BMCs want the driver's 1 s default. */
const SIM_COMMAND_INTERVAL_MS = 100

type Plain = string | number | boolean | null
const plain = (info: Record<string, unknown>): Record<string, Plain> =>
  Object.fromEntries(Object.entries(info).filter((e): e is [string, Plain] =>
    e[1] === null || ["string", "number", "boolean"].includes(typeof e[1])))

const bmcInfo = (m: RackMachine, images: RackImages): Record<string, Plain> => ({
  ipmi_address: m.bmc.access.address,
  ipmi_port: m.bmc.access.port,
  ipmi_username: m.bmc.access.username,
  ipmi_password: Redacted.value(m.bmc.access.password),
  ipmi_min_command_interval_ms: SIM_COMMAND_INTERVAL_MS,
  deploy_kernel: images.deployKernel,
  deploy_ramdisk: images.deployRamdisk,
})

export const defaultInstanceInfo = (images: RackImages) => ({
  image_source: images.sample.id, kernel: images.kernel, ramdisk: images.ramdisk, root_gb: 1,
})

const find = (service: NodeService["Service"], name: string) =>
  Effect.runPromise(Effect.match(service.get(name), { onSuccess: (n): NodeView | null => n, onFailure: () => null }))

/** Enrolls missing nodes, points existing ones at their BMC; returns the nodes. */
export const ensureRackNodes = async (
  service: NodeService["Service"], machines: ReadonlyArray<RackMachine>, images: RackImages, log: (line: string) => void,
): Promise<ReadonlyArray<NodeView>> => {
  const nodes: NodeView[] = []
  for (const m of machines) {
    const existing = await find(service, m.name)
    let node: NodeView
    if (existing === null) {
      node = await Effect.runPromise(service.enroll({
        name: m.name as NodeName, driver: "ipmi", driverInfo: bmcInfo(m, images),
        properties: { cpus: 2, memory_mb: 2048, local_gb: RACK_DISK_GB, cpu_arch: "x86_64" },
        instanceInfo: defaultInstanceInfo(images), extra: {},
      }, ACTOR))
    } else {
      // Other driver_info keys stay; masked secrets ("******") are kept as they are by update.
      const changes = { ...(existing.driver === "ipmi" ? {} : { driver: "ipmi" }), driverInfo: { ...plain(existing.driverInfo), ...bmcInfo(m, images) } }
      const updated = await Effect.runPromise(Effect.result(service.update(existing.uuid, changes, ACTOR)))
      if (updated._tag === "Failure") {
        log(`warning: node ${m.name} could not be pointed at its simulated BMC: ${updated.failure.message}`)
        node = existing
      } else node = updated.success
    }
    if (!node.ports.some((p) => p.address === m.mac)) {
      const added = await Effect.runPromise(Effect.result(service.addPort({ nodeRef: node.uuid, mac: m.mac as Mac }, ACTOR)))
      if (added._tag === "Failure") log(`warning: port ${m.mac} for node ${m.name}: ${added.failure.message}`)
    }
    nodes.push(node)
  }
  return nodes
}

/** Powers on the machines of nodes recorded as powered on; failures are reported, not fatal. */
export const restorePower = async (
  nodes: ReadonlyArray<NodeView>, machines: ReadonlyArray<RackMachine>, power: PowerDriver["Service"], log: (line: string) => void,
) => {
  await Promise.all(nodes.filter((n) => n.powerState === "power on").map(async (n) => {
    const m = machines.find((x) => x.name === n.name)
    if (m === undefined) return
    const on = await Effect.runPromise(Effect.result(power.powerOn({ ...m.bmc.access, minCommandIntervalMs: SIM_COMMAND_INTERVAL_MS })))
    if (on._tag === "Failure") log(`warning: powering ${m.name} back on: ${on.failure.message}`)
  }))
}
