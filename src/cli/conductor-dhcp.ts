// A conductor host's own DHCP and TFTP (ADR 0072): a dnsmasq on the host's provisioning interface
// that answers only the MACs linked in this host's TFTP root, with this host as next-server (dnsmasq
// names its own address on that interface), so a node boots from the host of the conductor that
// last wrote its PXE files. Started before the hardware, so the first host list is the tree's.
import { mkdirSync } from "node:fs"
import { isIPv4 } from "node:net"
import { join } from "node:path"
import { Effect, Exit, Scope } from "effect"
import { startDnsmasq, type Dnsmasq } from "../adapters/pxe/dnsmasq.ts"
import { UsageError } from "./args.ts"
import { unreadableByNobody } from "./sim-rack/preflight.ts"

export interface HostDhcpOptions {
  readonly interface: string
  readonly start: string
  readonly end: string
  readonly netmask: string
}

/** `--dhcp-interface` and `--dhcp-range START,END[,NETMASK]`: both or neither. */
export const parseHostDhcp = (iface: string | undefined, range: string | undefined): HostDhcpOptions | null => {
  if (iface === undefined && range === undefined) return null
  if (iface === undefined || range === undefined) throw new UsageError("--dhcp-interface and --dhcp-range go together")
  const [start, end, netmask = "255.255.255.0", ...rest] = range.split(",")
  if (rest.length > 0 || ![start, end, netmask].every((a) => a !== undefined && isIPv4(a)))
    throw new UsageError(`--dhcp-range ${range}: give START,END[,NETMASK] as IPv4 addresses`)
  return { interface: iface, start: start!, end: end!, netmask }
}

export interface HostDhcp {
  readonly dnsmasq: Dnsmasq
  readonly close: () => Promise<void>
}

/** Starts the host's dnsmasq over `tftpRoot`; its config, hosts file, leases and log go in `stateDir`. */
export const startHostDhcp = async (options: HostDhcpOptions, tftpRoot: string, stateDir: string, log: (line: string) => void): Promise<HostDhcp> => {
  const scope = Effect.runSync(Scope.make())
  // dnsmasq drops to nobody after binding: if nobody cannot reach its files, it stays root.
  for (const dir of [tftpRoot, stateDir]) mkdirSync(dir, { recursive: true, mode: 0o755 })
  const unreadable = unreadableByNobody(join(stateDir, "dhcp-hosts")) ?? unreadableByNobody(join(tftpRoot, "pxelinux.cfg"))
  const dnsmasq = await Effect.runPromise(Scope.provide(scope)(startDnsmasq({
    tftpRoot, stateDir,
    mode: {
      kind: "network", interface: options.interface,
      dhcp: { kind: "range", start: options.start, end: options.end, netmask: options.netmask, leaseTime: "1h" },
    },
    ...(unreadable === null ? {} : { user: "root" }),
    onRestart: log,
  }))).catch(async (e) => { await Effect.runPromise(Scope.close(scope, Exit.void)); throw e })
  log(`DHCP on ${options.interface} (${options.start}-${options.end}) for the MACs this host boots, next-server this host`)
  return { dnsmasq, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
