// dnsmasq's configuration and DHCP hosts file, rendered from the service's settings. Pure except
// for address syntax checks; every value is validated so that no setting can inject a directive.
import { isIPv4 } from "node:net"
import * as E from "fp-ts/lib/Either.js"
import { checkMacs } from "./boot-plan.ts"
import type { Mac } from "../../domain/values.ts"

/**
 * `loopback`: TFTP on a 127.x address, no DNS, and a DHCP server that serves static hosts only,
 * on an unprivileged port (tests, the fake-hardware demo, qemu user-net boots).
 * `network`: the provisioning network; `range` hands out addresses and names the boot file,
 * `proxy` leaves addresses to an existing DHCP server and only answers PXE clients.
 */
export type DnsmasqMode =
  | { readonly kind: "loopback"; readonly listenAddress: string; readonly dhcpPort: number }
  | {
    readonly kind: "network"
    readonly interface: string
    readonly dhcp:
      | { readonly kind: "range"; readonly start: string; readonly end: string; readonly netmask: string; readonly leaseTime: string }
      | { readonly kind: "proxy"; readonly subnet: string }
    /** Boot file name relative to the TFTP root; default "pxelinux.0". */
    readonly bootFile?: string
    /**
     * The loader offered to x86-64 UEFI firmware (DHCP client architecture 7 or 9, option 93),
     * e.g. "syslinux.efi"; the others get bootFile. Absent: every client gets bootFile.
     */
    readonly efiBootFile?: string
    /** Answer only MACs in the hosts file (default true): other machines on the network keep their own boot. */
    readonly onlyKnownMacs?: boolean
    /**
     * Answer IPv6 router solicitations with the interface's own IPv6 prefix and a router lifetime
     * of 0 (no default route through this host). iPXE waits for an answer before it boots (13 s
     * under QEMU), and no router answers on many provisioning networks (ADR 0147). The interface
     * needs a global or unique-local IPv6 address.
     */
    readonly routerAdvertisements?: boolean
  }

export interface DnsmasqFiles {
  readonly tftpRoot: string
  readonly conf: string
  readonly hosts: string
  /**
   * One file per MAC added since the last full reload: dnsmasq reads a new file there by itself
   * (inotify), without re-reading the others (ADR 0120).
   */
  readonly hostsDir?: string
  readonly leases: string
  readonly pid: string
  readonly log: string
}

export interface DhcpHostsPolicy {
  /** A fixed address for some MACs (network mode). */
  readonly fixedAddresses?: Readonly<Record<string, string>>
  /** MACs dnsmasq must never answer (e.g. the provisioning host's own other NICs). */
  readonly ignoredMacs?: ReadonlyArray<string>
}


const PLAIN_PATH = /^\/[^\s,"'#]*$/
const INTERFACE = /^[A-Za-z0-9_.:-]{1,15}$/
const LEASE = /^(infinite|\d+[smhdw]?)$/
const BOOT_FILE = /^[A-Za-z0-9._\/-]{1,128}$/

/** The dnsmasq.conf text; DNS stays off (port=0): this dnsmasq serves boot only. */
export const renderDnsmasqConf = (mode: DnsmasqMode, files: DnsmasqFiles, user?: string): E.Either<string, string> => {
  for (const [name, path] of Object.entries(files))
    if (!PLAIN_PATH.test(path)) return E.left(`${name} path ${JSON.stringify(path)} must be absolute, without spaces, commas, quotes or #`)
  if (user !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) return E.left(`user ${JSON.stringify(user)} is not a user name`)
  const common = [
    "# ironledger: written by the service at start; edits are overwritten.",
    "port=0",
    "bind-interfaces",
    "enable-tftp",
    `tftp-root=${files.tftpRoot}`,
    `dhcp-hostsfile=${files.hosts}`,
    ...(files.hostsDir === undefined ? [] : [`dhcp-hostsdir=${files.hostsDir}`]),
    `dhcp-leasefile=${files.leases}`,
    `pid-file=${files.pid}`,
    `log-facility=${files.log}`,
    ...(user === undefined ? [] : [`user=${user}`]),
  ]
  if (mode.kind === "loopback") {
    if (!isIPv4(mode.listenAddress) || !mode.listenAddress.startsWith("127."))
      return E.left(`loopback mode listens on a 127.x address, not ${mode.listenAddress}`)
    if (!Number.isInteger(mode.dhcpPort) || mode.dhcpPort < 1024 || mode.dhcpPort > 65534)
      return E.left(`loopback DHCP port ${mode.dhcpPort} must be 1024-65534 (the client port is the next one)`)
    return E.right([
      ...common,
      `listen-address=${mode.listenAddress}`,
      // Static hosts only, away from port 67: present so that the hosts file is read and checked.
      `dhcp-range=${mode.listenAddress},static,255.0.0.0`,
      `dhcp-alternate-port=${mode.dhcpPort},${mode.dhcpPort + 1}`,
      "",
    ].join("\n"))
  }
  if (!INTERFACE.test(mode.interface)) return E.left(`interface ${JSON.stringify(mode.interface)} is not an interface name`)
  const bootFile = mode.bootFile ?? "pxelinux.0"
  if (!BOOT_FILE.test(bootFile) || bootFile.includes("..")) return E.left(`boot file ${JSON.stringify(bootFile)} is not a plain relative path`)
  const efi = mode.efiBootFile
  if (efi !== undefined && (!BOOT_FILE.test(efi) || efi.includes(".."))) return E.left(`EFI boot file ${JSON.stringify(efi)} is not a plain relative path`)
  const lines = [...common, `interface=${mode.interface}`]
  // The firmware says what it can run (option 93): 7 and 9 are x86-64 UEFI.
  if (efi !== undefined) lines.push("dhcp-match=set:efi64,option:client-arch,7", "dhcp-match=set:efi64,option:client-arch,9")
  const dhcp = mode.dhcp
  if (dhcp.kind === "range") {
    if (![dhcp.start, dhcp.end, dhcp.netmask].every(isIPv4)) return E.left("DHCP range start, end and netmask must be IPv4 addresses")
    if (!LEASE.test(dhcp.leaseTime)) return E.left(`lease time ${JSON.stringify(dhcp.leaseTime)} is not like 1h, 600 or infinite`)
    lines.push(`dhcp-range=${dhcp.start},${dhcp.end},${dhcp.netmask},${dhcp.leaseTime}`)
    lines.push(...(efi === undefined ? [`dhcp-boot=${bootFile}`] : [`dhcp-boot=tag:efi64,${efi}`, `dhcp-boot=tag:!efi64,${bootFile}`]))
  } else {
    if (!isIPv4(dhcp.subnet)) return E.left(`proxy subnet ${JSON.stringify(dhcp.subnet)} is not an IPv4 address`)
    // pxe-service names the file without its ".0": the PXE ROM appends it.
    // Not proven against a UEFI client behind another DHCP server yet: refused rather than guessed.
    if (efi !== undefined) return E.left("an EFI boot file is not supported in proxy-DHCP mode")
    lines.push(`dhcp-range=${dhcp.subnet},proxy`, `pxe-service=x86PC,"ironledger",${bootFile.replace(/\.0$/, "")}`)
  }
  if (mode.onlyKnownMacs ?? true) lines.push("dhcp-ignore=tag:!known")
  if (mode.routerAdvertisements === true)
    lines.push("enable-ra", `dhcp-range=::,constructor:${mode.interface},ra-only`, `ra-param=${mode.interface},600,0`)
  return E.right([...lines, ""].join("\n"))
}

/** The `dhcp-host` line of one booting MAC (with its fixed address, if any); null for an ignored MAC. */
export const renderHostLine = (mac: Mac, policy: DhcpHostsPolicy = {}): E.Either<string, string | null> => {
  const file = renderHostsFile([mac], policy)
  if (E.isLeft(file)) return file
  return E.right(file.right.split("\n").find((line) => line === mac || line.startsWith(`${mac},`) && !line.endsWith(",ignore")) ?? null)
}

/** One `dhcp-host` line per MAC: ignored ones first, then every booting MAC (with its fixed address, if any). */
export const renderHostsFile = (macs: ReadonlyArray<Mac>, policy: DhcpHostsPolicy = {}): E.Either<string, string> => {
  const ignored = checkMacs(policy.ignoredMacs ?? [])
  if (E.isLeft(ignored)) return ignored
  const fixed = new Map<Mac, string>()
  for (const [input, address] of Object.entries(policy.fixedAddresses ?? {})) {
    const mac = checkMacs([input])
    if (E.isLeft(mac)) return mac
    if (!isIPv4(address)) return E.left(`fixed address ${JSON.stringify(address)} of ${input} is not IPv4`)
    fixed.set(mac.right[0]!, address)
  }
  const lines = ignored.right.map((mac) => `${mac},ignore`)
  for (const mac of [...macs].sort()) {
    if (ignored.right.includes(mac)) continue
    const address = fixed.get(mac)
    // No `set:` tag: dnsmasq 2.90 crashes on SIGHUP when a tagged host holds a lease; a listed
    // MAC gets the `known` tag anyway, which is all the config tests.
    lines.push(address === undefined ? mac : `${mac},${address}`)
  }
  return E.right(lines.map((l) => l + "\n").join(""))
}
