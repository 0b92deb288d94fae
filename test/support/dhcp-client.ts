// A real DHCP client on a test's network: busybox udhcpc on a host's eth0, its MAC set to the one
// asked for, reporting the offer it accepted (server, next-server, boot file) and configuring
// nothing. For multi-host tests: which host's DHCP answers a node's MAC.
import { execFileSync, execFile } from "node:child_process"
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Host } from "./netns-hosts.ts"

export interface DhcpAnswer {
  /** The DHCP server that answered (option 54). */
  readonly serverId: string
  /** next-server: siaddr of the reply. */
  readonly nextServer: string
  readonly bootFile: string
  readonly address: string
}

export const dhcpClientUnavailable = (): string | undefined => {
  try { execFileSync("busybox", ["udhcpc", "--help"], { stdio: "ignore" }) } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "no busybox (busybox-static) for udhcpc"
  }
  return undefined
}

/**
 * Asks for an address as `mac` from `host`'s eth0 (its MAC and addresses are changed for it): the
 * answer taken, or null when no server answered within about `seconds`. Measured here: the first
 * discovers after the link comes up go unanswered, an answer takes about 3 s. `sendOptions` go into
 * the requests as udhcpc's `-x` spells them, e.g. "0x5d:0007" (client architecture: x86-64 UEFI).
 */
export const askDhcp = async (host: Host, mac: string, seconds = 6, sendOptions: ReadonlyArray<string> = []): Promise<DhcpAnswer | null> => {
  const dir = mkdtempSync(join(tmpdir(), "ironledger-udhcpc-"))
  try {
    // udhcpc hands what it got to a script; this one only prints it.
    const script = join(dir, "report")
    writeFileSync(script, '#!/bin/sh\n[ "$1" = bound ] && echo "bound serverid=$serverid siaddr=$siaddr boot_file=$boot_file ip=$ip"\nexit 0\n')
    chmodSync(script, 0o755)
    // A client without an address, as a booting machine is; the MAC is set while the link is down.
    const link = (...args: ReadonlyArray<string>) => execFileSync("ip", ["-n", host.namespace, ...args])
    link("addr", "flush", "dev", "eth0")
    link("link", "set", "eth0", "down")
    link("link", "set", "eth0", "address", mac)
    link("link", "set", "eth0", "up")
    const out = await new Promise<string>((resolve) => {
      execFile(host.run[0]!, [...host.run.slice(1), "busybox", "udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", String(seconds), "-T", "1", "-A", "1", ...sendOptions.flatMap((o) => ["-x", o]), "-s", script],
        { encoding: "utf8", timeout: (seconds + 5) * 1000 }, (_e, stdout) => resolve(stdout ?? ""))
    })
    const line = out.split("\n").find((l) => l.startsWith("bound "))
    if (line === undefined) return null
    const field = (name: string) => new RegExp(`${name}=(\\S*)`).exec(line)?.[1] ?? ""
    return { serverId: field("serverid"), nextServer: field("siaddr"), bootFile: field("boot_file"), address: field("ip") }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * What a booting machine's firmware fetches next: `path` over TFTP from `server`, from `host` with
 * `address` (a /24) on its eth0; null when the server has no such file or does not answer.
 */
export const tftpGet = async (host: Host, address: string, server: string, path: string): Promise<string | null> => {
  execFileSync("ip", ["-n", host.namespace, "addr", "replace", `${address}/24`, "dev", "eth0"])
  const dir = mkdtempSync(join(tmpdir(), "ironledger-tftp-"))
  try {
    const local = join(dir, "got")
    const ok = await new Promise<boolean>((resolve) => {
      execFile(host.run[0]!, [...host.run.slice(1), "busybox", "tftp", "-g", "-r", path, "-l", local, server], { timeout: 10_000 }, (e) => resolve(e === null))
    })
    return ok ? readFileSync(local, "utf8") : null
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
