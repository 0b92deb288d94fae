// A conductor host's own DHCP and TFTP (ADR 0072): a dnsmasq on the host's provisioning interface
// that answers only the MACs linked in this host's TFTP root, with this host as next-server (dnsmasq
// names its own address on that interface), so a node boots from the host of the conductor that
// last wrote its PXE files. Started before the hardware, so the first host list is the tree's.
// With discovery (ADR 0140) it also answers MACs no node of the fleet has, which then boot the
// discovery config `serve --discovery` writes (the same function, ../adapters/netboot/discovery.ts),
// and ignores the fleet's MACs it does not link, so a node another host boots is never answered here.
import { mkdirSync } from "node:fs"
import { isIPv4 } from "node:net"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { Mac } from "../domain/values.ts"
import { startDnsmasq, type Dnsmasq, type DnsmasqFailed } from "../adapters/pxe/dnsmasq.ts"
import { makeFsTree } from "../adapters/pxe/fs-tree.ts"
import type { LinksChange } from "../adapters/pxe/configurator.ts"
import { discoveryBootFromStateDir } from "../adapters/netboot/discovery.ts"
import { UsageError } from "./args.ts"
import { unreadableByNobody } from "./sim-rack/preflight.ts"

export interface HostDhcpOptions {
  readonly interface: string
  readonly start: string
  readonly end: string
  readonly netmask: string
  /** `--dhcp-router-advertisements`: answer IPv6 router solicitations on the interface (ADR 0147). */
  readonly routerAdvertisements?: boolean
}

/** `--dhcp-interface` and `--dhcp-range START,END[,NETMASK]`: both or neither. */
export const parseHostDhcp = (iface: string | undefined, range: string | undefined, routerAdvertisements = false): HostDhcpOptions | null => {
  if (iface === undefined && range === undefined) {
    if (routerAdvertisements) throw new UsageError("--dhcp-router-advertisements needs --dhcp-interface and --dhcp-range")
    return null
  }
  if (iface === undefined || range === undefined) throw new UsageError("--dhcp-interface and --dhcp-range go together")
  const [start, end, netmask = "255.255.255.0", ...rest] = range.split(",")
  if (rest.length > 0 || ![start, end, netmask].every((a) => a !== undefined && isIPv4(a)))
    throw new UsageError(`--dhcp-range ${range}: give START,END[,NETMASK] as IPv4 addresses`)
  return { interface: iface, start: start!, end: end!, netmask, routerAdvertisements }
}

/** Discovery on this host: the API the discovery ramdisk posts to, and the state directory whose image store holds the default deploy images. */
export interface HostDiscovery {
  readonly apiUrl: string
  readonly imagesStateDir: string
}

/** What the host's DHCP needs to know of the fleet (a Fleet projection is one): its MACs, and a version that moves when they may have. */
export interface FleetMacsSource {
  readonly macs: () => ReadonlyArray<string>
  readonly portsVersion: () => number
}

export interface HostDhcp {
  readonly dnsmasq: Dnsmasq
  /** The MACs this host's TFTP root links (the PXE tree tells it after each change). */
  readonly setBootMacs: (macs: ReadonlyArray<Mac>) => Effect.Effect<void, DnsmasqFailed>
  /** The PXE tree's change of links, applied to that set (the whole hosts file is rewritten: the ignored MACs depend on it). */
  readonly linksChanged: (change: LinksChange) => Effect.Effect<void, DnsmasqFailed>
  /** With discovery: keeps the fleet's MACs this host does not link ignored; returns the way to stop. */
  readonly followFleet: (fleet: FleetMacsSource) => () => void
  readonly close: () => Promise<void>
}

export interface HostDhcpExtras {
  readonly discovery?: HostDiscovery
  /** The dnsmasq to run (a test runs it in a network namespace). */
  readonly program?: string
}

const FLEET_CHECK_MS = 500

/** Starts the host's dnsmasq over `tftpRoot`; its config, hosts file, leases and log go in `stateDir`. */
export const startHostDhcp = async (
  options: HostDhcpOptions, tftpRoot: string, stateDir: string, log: (line: string) => void, extras: HostDhcpExtras = {},
): Promise<HostDhcp> => {
  const scope = Effect.runSync(Scope.make())
  // dnsmasq drops to nobody after binding: if nobody cannot reach its files, it stays root.
  for (const dir of [tftpRoot, stateDir]) mkdirSync(dir, { recursive: true, mode: 0o755 })
  const discovery = extras.discovery
  // Before dnsmasq answers anyone: an unknown MAC must find the default config once it is answered.
  if (discovery !== undefined) {
    await (await discoveryBootFromStateDir(discovery.imagesStateDir, tftpRoot))(discovery.apiUrl)
      .catch((e: Error) => { throw new UsageError(`--discovery: ${e.message} --state-dir ${discovery.imagesStateDir}`) })
  }
  const unreadable = unreadableByNobody(join(stateDir, "dhcp-hosts")) ?? unreadableByNobody(join(tftpRoot, "pxelinux.cfg"))
  // The fleet's MACs and this host's links, as last told; the ignored ones are read at every rewrite of the hosts file.
  let fleetMacs: ReadonlyArray<Mac> = []
  let linked: ReadonlySet<Mac> | null = null
  const policy = { get ignoredMacs() { return fleetMacs.filter((m) => !(linked?.has(m) ?? false)) } }
  const dnsmasq = await Effect.runPromise(Scope.provide(scope)(startDnsmasq({
    tftpRoot, stateDir,
    mode: {
      kind: "network", interface: options.interface,
      dhcp: { kind: "range", start: options.start, end: options.end, netmask: options.netmask, leaseTime: "1h" },
      onlyKnownMacs: discovery === undefined, routerAdvertisements: options.routerAdvertisements ?? false,
    },
    hosts: policy,
    ...(unreadable === null ? {} : { user: "root" }),
    ...(extras.program === undefined ? {} : { program: extras.program }),
    onRestart: log,
  }))).catch(async (e) => { await Effect.runPromise(Scope.close(scope, Exit.void)); throw e })
  const setBootMacs = (macs: ReadonlyArray<Mac>) => Effect.suspend(() => { linked = new Set(macs); return dnsmasq.setBootMacs(macs) })
  const linksChanged = (change: LinksChange) => Effect.gen(function* () {
    const known = linked ?? new Set((yield* Effect.promise(() => makeFsTree(tftpRoot).then((t) => t.links()))).map((l) => l.mac))
    const now = new Set(known)
    for (const mac of change.unlinked) now.delete(mac)
    for (const mac of change.linked) now.add(mac)
    yield* setBootMacs([...now])
  })
  const followFleet = (fleet: FleetMacsSource) => {
    if (discovery === undefined) return () => {}
    // Looked at when the fleet's ports moved, not after every event: a walk of the fleet's MACs
    // every half second under load was O(fleet) work on the event loop (ADR 0189).
    let seen: number | null = null
    let dirty = false
    const check = async () => {
      const version = fleet.portsVersion()
      if (version === seen && !dirty) return
      // After a failed rewrite the file still lacks the MACs last read: written again even if they have not moved since.
      const retry = dirty
      seen = version
      dirty = false
      const now = fleet.macs() as ReadonlyArray<Mac>
      if (!retry && now.length === fleetMacs.length && now.every((m, i) => m === fleetMacs[i])) return
      fleetMacs = now
      linked ??= new Set((await makeFsTree(tftpRoot).then((t) => t.links())).map((l) => l.mac))
      await Effect.runPromise(dnsmasq.setBootMacs([...linked]))
    }
    const timer = setInterval(() => { void check().catch((e: Error) => { dirty = true; log(`DHCP hosts of the fleet's MACs not updated: ${e.message}`) }) }, FLEET_CHECK_MS)
    timer.unref()
    return () => { clearInterval(timer) }
  }
  log(`DHCP on ${options.interface} (${options.start}-${options.end}) for the MACs this host boots${discovery === undefined ? "" : " and machines no node knows (discovery)"}, next-server this host`)
  return { dnsmasq, setBootMacs, linksChanged, followFleet, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
