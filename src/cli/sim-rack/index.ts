// The "ipmi" hardware type as `serve` runs it, with or without a simulated rack: the TFTP tree, image store
// and scratch space under the state directory; for `--sim N` on real servers, also a dnsmasq serving
// that tree on 127.0.0.1 and N ipmi_sim BMCs powering machine simulators, with one Redfish BMC
// emulator in front of the same machines (./redfish.ts). Everything stops on close.
import { join } from "node:path"
import { mkdirSync } from "node:fs"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { Vendor } from "../../application/hardware/hardware-type.ts"
import type { NodeService } from "../../application/node-service.ts"
import { ipmi } from "../../adapters/ipmi/hardware.ts"
import { makeIpmitoolPowerDriver } from "../../adapters/ipmi/ipmitool-power-driver.ts"
import { makeNetboot, tftpRootOf } from "../../adapters/netboot/index.ts"
import { freeUdpPort } from "../../adapters/sim/bmc/free-port.ts"
import { ensureRackNodes, restorePower } from "./enroll.ts"
import { prepareRackImages, type RackImages } from "./images.ts"
import { unreadableByNobody } from "./preflight.ts"
import { startSimRack, type SimRack } from "./rack.ts"
import { startRackRedfish } from "./redfish.ts"

export { realRackUnavailable } from "./preflight.ts"

export interface IpmiSetup {
  /** The ipmi hardware type with the network boot and deploy interfaces it uses. */
  readonly vendors: ReadonlyArray<Vendor>
  /** Enrolls the rack's nodes (none without a rack). */
  readonly enroll: (service: NodeService["Service"]) => Promise<void>
  readonly close: () => Promise<void>
  /** Writes the default PXE config that boots unknown machines into discovery (ADR 0090). */
  readonly discoveryBoot?: (apiUrl: string) => Promise<void>
}

export interface IpmiSetupOptions {
  readonly stateDir: string
  /** Simulated machines to run (0: none, the TFTP tree is served by something else). */
  readonly machines: number
  readonly releasePort: number
  /** Notices for the operator (stdout). */
  readonly say: (line: string) => void
}

const TFTP_ADDRESS = "127.0.0.1"

/** Prints each machine's progress (pxe, exported, booted, failed: why), polled from its status file. */
const watchMachines = (rack: SimRack, say: (line: string) => void) => {
  // Per machine: the boot (pid) and how many of its states were told; what was there at start is not.
  const told = new Map<string, { pid: number; count: number }>()
  const poll = (quiet: boolean) => {
    for (const m of rack.machines) {
      const s = m.status()
      if (s === null) continue
      const before = told.get(m.name)
      const from = before?.pid === s.pid ? before.count : 0
      if (!quiet) {
        for (const h of s.history.slice(from)) {
          const why = h.state === s.state && s.reason !== undefined ? ` (${s.reason})` : ""
          say(`machine ${m.name}: ${h.state}${why}`)
        }
      }
      told.set(m.name, { pid: s.pid, count: s.history.length })
    }
  }
  poll(true)
  const timer = setInterval(() => poll(false), 500)
  timer.unref()
  return () => clearInterval(timer)
}

export const startIpmi = async (options: IpmiSetupOptions): Promise<IpmiSetup> => {
  const scope = Effect.runSync(Scope.make())
  let rack: SimRack | null = null
  let unwatch = () => {}
  let closeRedfish = async () => {}
  const close = async () => {
    unwatch()
    await closeRedfish()
    await rack?.stop()
    rack = null
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
  try {
    mkdirSync(options.stateDir, { recursive: true, mode: 0o755 })
    if (options.machines === 0) {
      const netboot = await Effect.runPromise(Scope.provide(scope)(makeNetboot({ stateDir: options.stateDir })))
      return { vendors: [netboot.vendor, ipmi()], enroll: async () => {}, close, discoveryBoot: netboot.discoveryBoot }
    }
    // dnsmasq drops to nobody after binding port 69; a tree it cannot read would answer every
    // request "file not found". Keep it as root then, and say so.
    const unreadable = unreadableByNobody(tftpRootOf(options.stateDir))
    if (unreadable !== null) options.say(`warning: ${unreadable}; running dnsmasq as root instead`)
    const netboot = await Effect.runPromise(Scope.provide(scope)(makeNetboot({
      stateDir: options.stateDir,
      dnsmasq: {
        stateDir: join(options.stateDir, "dnsmasq"),
        mode: { kind: "loopback", listenAddress: TFTP_ADDRESS, dhcpPort: await freeUdpPort(TFTP_ADDRESS) },
        ...(unreadable === null ? {} : { user: "root" }),
      },
    })))
    const rackDir = join(options.stateDir, "rack")
    const images: RackImages = await prepareRackImages(join(rackDir, "images"), netboot.images)
    rack = await startSimRack({
      dir: rackDir, count: options.machines, tftpServer: TFTP_ADDRESS, releasePort: options.releasePort, log: options.say,
    })
    const running = rack
    unwatch = watchMachines(running, options.say)
    const redfish = await startRackRedfish(options.stateDir, running.machines, options.say)
    closeRedfish = redfish.close
    options.say(`simulated rack: ${options.machines} machine(s) on real ipmi_sim, dnsmasq TFTP (${TFTP_ADDRESS}:69), tgtd and qemu-img; state in ${rackDir}`)
    options.say(`sample partition image: ${images.sample.id} (${images.sample.virtualSizeBytes} bytes, ${images.sample.format} ext4, ${images.samplePath}); ` +
      `kernel ${images.kernel}, ramdisk ${images.ramdisk}: the sim nodes' default instance_info deploys it`)
    return {
      vendors: [netboot.vendor, ipmi()],
      enroll: async (service) => {
        const nodes = await ensureRackNodes(service, running.machines, images, options.say)
        await restorePower(nodes, running.machines, makeIpmitoolPowerDriver(), options.say)
        await redfish.repoint(service)
        for (const m of running.machines) {
          options.say(`  ${m.name}: BMC ${m.bmc.access.address}:${m.bmc.access.port}, MAC ${m.mac}, iSCSI ${m.address}:${m.iscsiPort}, ${m.dir}`)
        }
      },
      close,
    }
  } catch (e) {
    await close()
    throw e
  }
}
