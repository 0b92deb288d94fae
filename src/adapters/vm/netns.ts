// The rack's private network: a network namespace holding a bridge and one tap per VM NIC. Nothing
// is added to the machine's own namespace; deleting the namespace removes every link in it.
import { execFile } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Data from "effect/Data"

export class NetnsFailed extends Data.TaggedError("NetnsFailed")<{ readonly reason: string }> {
  override get message() { return `network namespace: ${this.reason}` }
}

const NAME = /^[A-Za-z0-9_-]{1,32}$/
const LINK = /^[A-Za-z0-9_-]{1,15}$/

export const ip = (args: ReadonlyArray<string>) => new Promise<string>((resolve, reject) => {
  execFile("ip", [...args], { env: { ...process.env, LC_ALL: "C" } }, (error, stdout, stderr) =>
    error === null ? resolve(stdout) : reject(new NetnsFailed({ reason: `ip ${args.join(" ")}: ${stderr.trim() || error.message}` })))
})

/** argv that runs `argv` inside the namespace. */
export const inNamespace = (namespace: string, argv: ReadonlyArray<string>): ReadonlyArray<string> =>
  ["ip", "netns", "exec", namespace, ...argv]

/**
 * An executable at DIR/<program>-in-<namespace> that runs `program` inside the namespace with the
 * same pid (exec all the way), for adapters that take a program path (e.g. dnsmasq's).
 */
export const namespacedProgram = (dir: string, namespace: string, program: string): string => {
  if (!NAME.test(namespace) || !/^[A-Za-z0-9_.-]+$/.test(program)) throw new NetnsFailed({ reason: `cannot wrap ${program} for ${namespace}` })
  const path = join(dir, `${program}-in-${namespace}`)
  writeFileSync(path, `#!/bin/sh\nexec ip netns exec ${namespace} ${program} "$@"\n`, { mode: 0o700 })
  return path
}

export interface RackNetwork {
  readonly namespace: string
  readonly bridge: string
  /** The bridge's address: where the VMs reach the service (DHCP, TFTP, API). */
  readonly gateway: string
  readonly prefixLength: number
  readonly taps: ReadonlyArray<string>
}

export interface RackNetworkSpec {
  readonly namespace: string
  /** e.g. "10.213.0": the bridge takes .1, DHCP hands out .100-.199. */
  readonly subnet24: string
  readonly tapCount: number
}

export const checkSpec = (spec: RackNetworkSpec): string | null => {
  if (!NAME.test(spec.namespace)) return `namespace ${JSON.stringify(spec.namespace)}: 1-32 letters, digits, - or _`
  const octets = spec.subnet24.split(".")
  if (octets.length !== 3 || !octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) return `subnet ${JSON.stringify(spec.subnet24)} is not like 10.213.0`
  if (!Number.isInteger(spec.tapCount) || spec.tapCount < 1 || spec.tapCount > 99) return "a rack has 1 to 99 NICs"
  return null
}

/** The rack's IPv6 address on its bridge: each rack is a namespace of its own, so one prefix serves all. */
export const RACK_IPV6_GATEWAY = "fd49:726c:6472::1/64"

/** Creates the namespace (which must not exist), its loopback, bridge and taps. */
export const createRackNetwork = async (spec: RackNetworkSpec): Promise<RackNetwork> => {
  const invalid = checkSpec(spec)
  if (invalid !== null) throw new NetnsFailed({ reason: invalid })
  const ns = spec.namespace
  const existing = (await ip(["netns", "list"])).split("\n").map((l) => l.split(" ")[0])
  if (existing.includes(ns)) throw new NetnsFailed({ reason: `${ns} already exists (left by a previous run? ip netns del ${ns})` })
  await ip(["netns", "add", ns])
  const inNs = (args: ReadonlyArray<string>) => ip(["-n", ns, ...args])
  try {
    const bridge = "br0"
    const gateway = `${spec.subnet24}.1`
    await inNs(["link", "set", "lo", "up"])
    await inNs(["link", "add", bridge, "type", "bridge"])
    // No STP and no forwarding delay: a PXE ROM gives up long before a port would start forwarding.
    await inNs(["link", "set", bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0"])
    await inNs(["addr", "add", `${gateway}/24`, "dev", bridge])
    // A unique-local IPv6 prefix for the rack's router advertisements (ADR 0147); no duplicate
    // address detection: the rack is the only host on its bridge.
    await inNs(["addr", "add", RACK_IPV6_GATEWAY, "dev", bridge, "nodad"])
    await inNs(["link", "set", bridge, "up"])
    const taps: string[] = []
    for (let i = 0; i < spec.tapCount; i++) {
      const tap = `tap${i}`
      if (!LINK.test(tap)) throw new NetnsFailed({ reason: `bad link name ${tap}` })
      await inNs(["tuntap", "add", "dev", tap, "mode", "tap"])
      await inNs(["link", "set", tap, "master", bridge])
      await inNs(["link", "set", tap, "up"])
      taps.push(tap)
    }
    return { namespace: ns, bridge, gateway, prefixLength: 24, taps }
  } catch (e) {
    await ip(["netns", "del", ns]).catch(() => {})
    throw e
  }
}

/** Deletes the namespace; processes still inside keep it alive, so stop them first. */
export const deleteRackNetwork = async (namespace: string) => {
  await ip(["netns", "del", namespace]).catch((e: NetnsFailed) => {
    if (!/No such file|Invalid netns/.test(e.reason)) throw e
  })
}
