// The service for a rack of QEMU VMs (ADR 0028), run by a process that is already inside the rack's
// network namespace: the rack (BMCs, VMs, dnsmasq) on the network its parent made, the deploy
// ramdisk the parent built and recorded as the store's default deploy images, the "ipmi" hardware
// type whose pxe boot interface keeps the rack's dnsmasq in step, and the API on the bridge's
// address, so the URL in every PXE config is one the VMs reach. The host reaches the API through
// a Unix socket (a path is visible from every namespace) that this process pipes to it.
import { mkdirSync, writeFileSync } from "node:fs"
import { rm } from "node:fs/promises"
import { connect, createServer, type Socket } from "node:net"
import { dirname, join } from "node:path"
import { randomBytes, randomUUID } from "node:crypto"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { NodeService } from "../../application/node-service.ts"
import type { Mac, NodeName } from "../../domain/index.ts"
import { notSupported } from "../../adapters/common/declared.ts"
import { ipmi } from "../../adapters/ipmi/hardware.ts"
import { redfish } from "../../adapters/redfish/hardware.ts"
import { chassisControlMachine, selfSignedCertificate, startRedfishEmulator } from "../../adapters/sim/redfish/index.ts"
import { makeNetboot, tftpRootOf } from "../../adapters/netboot/index.ts"
import { macSources } from "../../adapters/pxe/mac-sources.ts"
import { readDefaultDeployImages } from "../../adapters/ramdisk/build/register.ts"
import { startVmRack, type RackVm, type VmBootMode } from "../../adapters/vm/rack.ts"
import type { RackNetwork } from "../../adapters/vm/netns.ts"
import type { HardwareSetup } from "../hardware.ts"
import { startService } from "../service.ts"
import type { DiscoverySettings } from "../../application/discovery/settings.ts"

export interface VmServiceOptions {
  /** The network the parent made (createRackNetwork); this process runs inside its namespace. */
  readonly network: RackNetwork
  readonly count: number
  /** State: TFTP tree, images, the rack's VMs; must be readable by dnsmasq's user (nobody). */
  readonly stateDir: string
  /** The API's port on the bridge's address; default 6385. */
  readonly port?: number
  /** Where the host's side connects: piped to the API. */
  readonly socketPath: string
  /** SQLite log; default in memory. */
  readonly db?: string
  readonly diskGib?: number
  /** Disks of each VM (default 1; 2: software RAID-1 members, ADR 0101). */
  readonly disksPerVm?: number
  /** Firmware of VM i (default bios); "uefi" VMs are enrolled with the boot_mode:uefi capability. */
  readonly bootModes?: ReadonlyArray<VmBootMode>
  /** Enroll the VMs as ipmi nodes vm0..vmN-1 (those not enrolled yet). */
  readonly enroll: boolean
  /** The enrolled VMs' instance_info (e.g. a sample image). */
  readonly instanceInfo?: Readonly<Record<string, unknown>>
  /** The enrolled UEFI VMs' instance_info, when it differs (e.g. a whole-disk sample). */
  readonly uefiInstanceInfo?: Readonly<Record<string, unknown>>
  /** dnsmasq's user after it binds (default nobody, which must be able to read the TFTP tree). */
  readonly dnsmasqUser?: string
  /** Machines no node knows get the discovery ramdisk, and dnsmasq answers them (ADR 0090). */
  readonly discovery?: DiscoverySettings
  readonly say: (line: string) => void
}

/** The rack's Redfish BMC: every VM is a system, powered by the same chassis control as its ipmi_sim. */
export interface RackRedfish {
  /** https://127.0.0.1:PORT inside the namespace (where the service runs). */
  readonly url: string
  readonly username: string
  readonly password: string
  /** The emulator's certificate, to trust as redfish_verify_ca. */
  readonly ca: string
}

export interface VmService {
  readonly url: string
  readonly vms: ReadonlyArray<RackVm>
  readonly redfish: RackRedfish
  readonly close: () => Promise<void>
}

/** driver_info of a rack VM as a redfish node (its system on the rack's Redfish BMC). */
export const vmRedfishInfoOf = (vm: RackVm, bmc: RackRedfish) => ({
  redfish_address: bmc.url, redfish_system_id: `/redfish/v1/Systems/${vm.name}`,
  redfish_username: bmc.username, redfish_password: bmc.password, redfish_verify_ca: bmc.ca,
})

/** driver_info, properties and port of a rack VM as an ipmi node. */
export const vmNodeOf = (vm: RackVm, diskGib: number) => ({
  name: vm.name,
  driverInfo: { ipmi_address: vm.bmc.address, ipmi_port: vm.bmc.port, ipmi_username: vm.bmc.username, ipmi_password: vm.bmc.password },
  properties: {
    cpus: 1, memory_mb: 512, local_gb: diskGib, cpu_arch: "x86_64",
    // As Ironic declares it; the rack's dnsmasq offers OVMF's PXE syslinux.efi (ADR 0080).
    ...(vm.bootMode === "uefi" ? { capabilities: "boot_mode:uefi" } : {}),
  },
  mac: vm.mac,
})

const enrollVms = async (service: NodeService["Service"], vms: ReadonlyArray<RackVm>, diskGib: number, infoOf: (vm: RackVm) => Readonly<Record<string, unknown>>) => {
  for (const vm of vms) {
    const exists = await Effect.runPromise(Effect.match(service.get(vm.name), { onSuccess: () => true, onFailure: () => false }))
    if (exists) continue
    const n = vmNodeOf(vm, diskGib)
    const node = await Effect.runPromise(service.enroll({
      name: n.name as NodeName, driver: "ipmi", driverInfo: n.driverInfo, properties: n.properties, instanceInfo: { ...infoOf(vm) }, extra: {},
    }, "serve:vms"))
    await Effect.runPromise(service.addPort({ nodeRef: node.uuid, mac: n.mac as Mac }, "serve:vms"))
  }
}

/** Pipes each connection on the Unix socket to host:port. */
const bridgeSocket = async (socketPath: string, host: string, port: number): Promise<{ readonly close: () => Promise<void> }> => {
  await rm(socketPath, { force: true })
  const open = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(port, host)
    open.add(client)
    client.pipe(upstream).pipe(client)
    const end = () => { client.destroy(); upstream.destroy(); open.delete(client) }
    for (const s of [client, upstream]) { s.once("error", end); s.once("close", end) }
  })
  await new Promise<void>((resolve, reject) => { server.once("error", reject); server.listen(socketPath, resolve) })
  // Kept-alive connections would hold close() forever.
  return { close: () => new Promise<void>((resolve) => { server.close(() => resolve()); for (const c of open) c.destroy() }) }
}

export const startVmService = async (options: VmServiceOptions): Promise<VmService> => {
  const scope = Effect.runSync(Scope.make())
  const closeScope = () => Effect.runPromise(Scope.close(scope, Exit.void))
  const diskGib = options.diskGib ?? 4
  try {
    mkdirSync(options.stateDir, { recursive: true, mode: 0o755 })
    const tftpRoot = tftpRootOf(options.stateDir)
    mkdirSync(tftpRoot, { recursive: true, mode: 0o755 })
    const rack = await Effect.runPromise(Scope.provide(scope)(startVmRack({
      dir: join(options.stateDir, "rack"), namespace: options.network.namespace, subnet24: options.network.gateway.replace(/\.1$/, ""),
      count: options.count, tftpRoot, network: options.network, diskGib,
      ...(options.disksPerVm === undefined ? {} : { disksPerVm: options.disksPerVm }),
      answerUnknownMacs: options.discovery?.enabled === true,
      ...(options.bootModes === undefined ? {} : { bootModes: options.bootModes }),
      ...(options.dnsmasqUser === undefined ? {} : { dnsmasqUser: options.dnsmasqUser }),
    })))
    // The default deploy images are the ones recorded in the store; console=ttyS0: the VMs' serial consoles (their console.log) show the ramdisk and the instance.
    // Disks under the agent's default 4 GiB minimum are install disks too when the rack is made of them.
    const appendParams = `console=ttyS0${diskGib < 4 ? ` root_device_min_gib=${diskGib}` : ""}`
    // dnsmasq answers the MACs the PXE tree links and those of nodes booting from virtual media.
    const dhcp = macSources(rack.dnsmasq)
    const netboot = await Effect.runPromise(Scope.provide(scope)(makeNetboot({ stateDir: options.stateDir, runningDnsmasq: dhcp("pxe"), appendParams })))
    // One Redfish BMC for the rack, driving each VM through the chassis control its ipmi_sim runs.
    const tls = await selfSignedCertificate("127.0.0.1")
    const redfishCa = join(options.stateDir, "redfish-ca.pem")
    writeFileSync(redfishCa, tls.cert)
    const redfishPassword = randomBytes(12).toString("hex")
    const emulator = await startRedfishEmulator({
      machines: rack.vms.map((vm) => chassisControlMachine(join(dirname(vm.powerLog), "chassis-control"), vm.name, randomUUID())),
      username: "admin", password: redfishPassword, tls, log: options.say, mediaDir: join(options.stateDir, "rack", "redfish-media"),
    })
    Effect.runSync(Scope.addFinalizer(scope, Effect.promise(() => emulator.close())))
    const rackRedfish: RackRedfish = { url: emulator.url, username: "admin", password: redfishPassword, ca: redfishCa }
    // For the operator who enrolls a VM as a redfish node; kept out of stdout and logs.
    writeFileSync(join(options.stateDir, "redfish.json"), JSON.stringify(rackRedfish, null, 2), { mode: 0o600 })
    const hardware: HardwareSetup = {
      vendors: [notSupported, netboot.vendor, ipmi(), redfish({ virtualMedia: {
        stateDir: options.stateDir, images: netboot.images, appendParams, dhcp: dhcp("virtual-media"),
        defaultDeployImages: await readDefaultDeployImages(join(options.stateDir, "images")),
      } })],
      connect: () => {},
      ...(options.enroll ? { ready: (service: NodeService["Service"]) => enrollVms(service, rack.vms, diskGib,
        (vm) => (vm.bootMode === "uefi" ? options.uefiInstanceInfo : undefined) ?? options.instanceInfo ?? {}) } : {}),
      close: () => {},
    }
    const port = options.port ?? 6385
    const running = await startService({
      hardware, host: rack.network.gateway, port, say: options.say, log: options.say, stateDir: options.stateDir,
      ...(options.db === undefined ? {} : { db: options.db }),
      ...(options.discovery === undefined ? {} : { discovery: options.discovery }),
    })
    if (options.discovery?.enabled === true) await netboot.discoveryBoot(running.url).catch(async (e) => { await running.close(); throw e })
    const socket = await bridgeSocket(options.socketPath, rack.network.gateway, running.api.port).catch(async (e) => { await running.close(); throw e })
    return {
      url: running.url, vms: rack.vms, redfish: rackRedfish,
      close: async () => {
        await socket.close()
        await running.close()
        await closeScope()
      },
    }
  } catch (e) {
    await closeScope()
    throw e
  }
}
