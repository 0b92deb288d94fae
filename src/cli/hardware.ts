// The hardware a service runs: the vendors registered here, one line each, and what they need to
// start. fake-hardware always; sim (simulated machines with a simulated ramdisk) always; with a
// state directory, the ipmi hardware type and the network boot and deploy it uses, and for
// `--sim N` a rack of simulated machines on real servers when this machine can run them (else N
// sim nodes). A new vendor adds its folder under src/adapters and one line in serveHardware.
import * as Effect from "effect/Effect"
import type { Vendor } from "../application/hardware/hardware-type.ts"
import type { DeployCallback, NodeService } from "../application/node-service.ts"
import type { Mac, NodeName } from "../domain/index.ts"
import { notSupported } from "../adapters/common/declared.ts"
import { fakeHardware } from "../adapters/fake/index.ts"
import { makeSimHardware, type SimHardware, type SimHardwareOptions } from "../adapters/sim/hardware.ts"
import { passDeployInfoUrl, postPassDeployInfo } from "../adapters/sim/machine/callback.ts"
import { httpAgentTransport, type AgentTransport } from "../adapters/sim/agent-steps.ts"
import { postSimInventory, type SimMachineSpec } from "../adapters/sim/inventory.ts"
import { simRescueOverHttp } from "../adapters/sim/rescue.ts"
import { realRackUnavailable, startIpmi } from "./sim-rack/index.ts"
import { redfish } from "../adapters/redfish/hardware.ts"

export interface HardwareSetup {
  readonly vendors: ReadonlyArray<Vendor>
  /** Runs once the API listens: simulated ramdisks post to it. */
  readonly connect: (apiUrl: string) => void
  /** Runs once the application is up: enrolls the simulated nodes this setup brings. */
  readonly ready?: (service: NodeService["Service"]) => Promise<void>
  readonly close: () => void | Promise<void>
  /** Boots machines no node knows into discovery (ADR 0090), where this setup serves a TFTP tree for real machines. */
  readonly discoveryBoot?: (apiUrl: string) => Promise<void>
}

export interface SimOptions {
  /** Where simulated disks, PXE configs and ramdisk boots live, shared by every process given it. */
  readonly diskDir?: string
  readonly diskBytesOf?: (nodeId: string) => number
  /** How long a simulated ramdisk takes to boot; default 200 ms. */
  readonly callbackDelayMs?: number
  /**
   * Where a simulated ramdisk's pass_deploy_info goes: by default over HTTP to the API given to
   * connect(), as a real ramdisk's does; tests and benchmarks hand it to the application directly.
   */
  readonly deliver?: (nodeId: string, callback: DeployCallback) => void
  /** Where a simulated ramdisk's in-band step calls go: by default over HTTP, as deliver's. */
  readonly agent?: (nodeId: string, key: string) => AgentTransport
  /** Where a simulated rescue ramdisk's calls go: by default over HTTP, as the real agent's (ADR 0095). */
  readonly rescue?: (nodeId: string, key: string, setPassword: (hash: string) => void) => Promise<boolean>
  /** What each simulated machine is made of, for its inventory (default: 2 CPUs, 4 GiB, one disk, one NIC). */
  readonly machineOf?: (nodeId: string) => SimMachineSpec | undefined
  readonly log?: (line: string) => void
  /** Conductors on several hosts: where the machines live, shared by every host (ADR 0071). */
  readonly rackDir?: string
  /** Who acts on the machines' BMCs, for the rack's BMC journal. */
  readonly actor?: string
  /** The host's DHCP server, kept in step with the MACs its TFTP root links (ADR 0072). */
  readonly onLinksChanged?: SimHardwareOptions["onLinksChanged"]
}

/** fake-hardware and sim, with the "no-*" interfaces every type may name. */
export const simulatedHardware = (options: SimOptions = {}): HardwareSetup & { readonly sim: SimHardware } => {
  let apiUrl: string | undefined
  let closed = false
  const overHttp = (nodeId: string, cb: DeployCallback): Promise<boolean> => {
    if (apiUrl === undefined || closed) return Promise.resolve(false)
    return postPassDeployInfo(passDeployInfoUrl(apiUrl, nodeId), {
      address: cb.address, port: String(cb.port), iqn: cb.iqn, lun: String(cb.lun), key: cb.key, error: cb.error,
      chap_user: cb.chapUser ?? "", chap_secret: cb.chapSecret ?? "",
    }, 10_000).then((r) => {
      if (r.kind === "unreachable" || r.status >= 300) options.log?.(`simulated ramdisk of ${nodeId}: call-back ${r.kind === "unreachable" ? r.reason : `answered ${r.status}`}`)
      // Unreachable, or still 503 (the API's store is down): handed back, tried again later.
      return r.kind !== "unreachable" && r.status !== 503
    })
  }
  const sim = makeSimHardware({
    callbackDelayMs: options.callbackDelayMs ?? 200,
    ...(options.diskDir === undefined ? {} : { diskDir: options.diskDir }),
    ...(options.diskBytesOf === undefined ? {} : { diskBytesOf: options.diskBytesOf }),
    ...(options.rackDir === undefined ? {} : { rackDir: options.rackDir }),
    ...(options.actor === undefined ? {} : { actor: options.actor }),
    ...(options.onLinksChanged === undefined ? {} : { onLinksChanged: options.onLinksChanged }),
    callBack: (nodeId, cb) => {
      if (closed) return Promise.resolve(false)
      if (options.deliver === undefined) return overHttp(nodeId, cb)
      options.deliver(nodeId, cb)
    },
    ...(options.machineOf === undefined ? {} : { machineOf: options.machineOf }),
    // Posted over HTTP as the real agent's; with `deliver` (no API in the loop) nothing is inspected.
    inventory: (nodeId, key, inventory) =>
      apiUrl === undefined || closed || options.deliver !== undefined ? Promise.resolve(false) : postSimInventory(apiUrl, nodeId, key, inventory),
    rescue: (nodeId, key, setPassword) =>
      options.rescue !== undefined ? options.rescue(nodeId, key, setPassword)
      : apiUrl === undefined || closed || options.deliver !== undefined ? Promise.resolve(false) : simRescueOverHttp(apiUrl, nodeId, key, setPassword),
    agent: (nodeId, key) => {
      if (options.agent !== undefined) return options.agent(nodeId, key)
      const none: AgentTransport = { ask: async () => ({ kind: "none" }), report: async () => undefined }
      return apiUrl === undefined || closed ? none : httpAgentTransport(apiUrl, nodeId, key)
    },
  })
  return {
    vendors: [notSupported, fakeHardware, sim.vendor],
    sim,
    connect: (url) => { apiUrl = url },
    close: () => { closed = true; sim.close() },
  }
}

const simName = (i: number) => `sim-${String(i).padStart(5, "0")}`
const simMac = (i: number) => `52:54:00:${[16, 8, 0].map((s) => ((i >> s) & 0xff).toString(16).padStart(2, "0")).join(":")}`

/** Enrolls the sim nodes that do not exist yet (a restart over the same log adds none). */
export const ensureSimNodes = async (service: NodeService["Service"], count: number) => {
  for (let i = 1; i <= count; i++) {
    const exists = await Effect.runPromise(Effect.match(service.get(simName(i)), { onSuccess: () => true, onFailure: () => false }))
    if (exists) continue
    const node = await Effect.runPromise(service.enroll({
      name: simName(i) as NodeName, driver: "sim", driverInfo: {},
      properties: { cpus: 4, memory_mb: 8192, local_gb: 40, cpu_arch: "x86_64" }, instanceInfo: {}, extra: {},
    }, "serve:sim"))
    await Effect.runPromise(service.addPort({ nodeRef: node.uuid, mac: simMac(i) as Mac }, "serve:sim"))
  }
}

export interface ServeHardwareOptions {
  /** Enables the "ipmi" hardware type: TFTP tree, image store, simulated rack live below it. */
  readonly stateDir?: string
  /** Simulated machines to run. */
  readonly sim: number
  /** Where sim keeps its simulated disks. */
  readonly diskDir?: string
  /** The conductor's ramdisk release port, where simulated ramdisks wait for "done". */
  readonly releasePort: number
  readonly log?: (line: string) => void
  /** Notices for the operator (stdout). */
  readonly say: (line: string) => void
}

export const serveHardware = async (options: ServeHardwareOptions): Promise<HardwareSetup> => {
  const simulated = simulatedHardware({
    ...(options.diskDir === undefined ? {} : { diskDir: options.diskDir }),
    ...(options.log === undefined ? {} : { log: options.log }),
  })
  const why = options.sim === 0 ? null : options.stateDir === undefined ? "no --state-dir for the ipmi hardware type" : realRackUnavailable()
  if (why !== null) options.say(`--sim ${options.sim}: ${options.sim} sim nodes (simulated machines in this process), not real servers (${why})`)
  const simNodes = async (service: NodeService["Service"]) => { if (why !== null) await ensureSimNodes(service, options.sim) }
  if (options.stateDir === undefined) return { ...simulated, ready: simNodes }
  const ipmi = await startIpmi({
    stateDir: options.stateDir, machines: why === null ? options.sim : 0, releasePort: options.releasePort, say: options.say,
  })
  return {
    vendors: [...simulated.vendors, ...ipmi.vendors, redfish()],
    connect: simulated.connect,
    ready: async (service) => { await simNodes(service); await ipmi.enroll(service) },
    close: async () => { await simulated.close(); await ipmi.close() },
    ...(ipmi.discoveryBoot === undefined ? {} : { discoveryBoot: ipmi.discoveryBoot }),
  }
}
