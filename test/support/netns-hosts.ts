// Hosts for multi-host tests: one network namespace per host, each with one link ("eth0") to a
// bridge that lives in a namespace of its own, so hosts talk only over that bridge, never through
// the machine's own namespace. `cut` takes a host's link down (the host keeps running). Everything
// is removed by `destroy`, and by a synchronous clean-up when the test process exits on an error.
import { execFileSync, spawn } from "node:child_process"

export interface Host {
  readonly name: string
  readonly namespace: string
  readonly address: string
  /** argv prefix that runs a program on this host. */
  readonly run: ReadonlyArray<string>
}

export interface Hosts {
  /** The bridge's namespace (where a test's own client may run). */
  readonly network: Host
  readonly host: (name: string) => Host
  /** The subnet, e.g. "10.250.0.0/24". */
  readonly subnet: string
  /** Takes the host's link down (not the host). */
  readonly cut: (name: string) => void
  /** Brings a cut host's link up again. */
  readonly mend: (name: string) => void
  /** SIGKILLs every process running on the host: its machine died. */
  readonly kill: (name: string) => void
  /** Kills every process on every host, deletes the namespaces; safe to call twice. */
  readonly destroy: () => void
}

const ip = (...args: ReadonlyArray<string>) => execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })

/** Whether namespaces can be made here (root, iproute2). */
export const netnsUnavailable = (): string | undefined => {
  if (process.getuid?.() !== 0) return "network namespaces need root"
  try { ip("netns", "list") } catch { return "no usable `ip netns`" }
  return undefined
}

const pidsIn = (namespace: string): Array<number> => {
  try { return ip("netns", "pids", namespace).split("\n").filter((l) => /^\d+$/.test(l)).map(Number) } catch { return [] }
}

const killAllIn = (namespace: string) => {
  // Killed processes may have children that were just forked: a few rounds.
  for (let round = 0; round < 5; round++) {
    const pids = pidsIn(namespace)
    if (pids.length === 0) return
    for (const pid of pids) try { process.kill(pid, "SIGKILL") } catch { /* gone */ }
    execFileSync("sleep", ["0.1"])
  }
}

const live = new Set<() => void>()
process.once("exit", () => { for (const destroy of live) destroy() })

/**
 * Creates the bridge's namespace and one namespace per host name, with addresses `<subnet24>.10+i`
 * in the order given (the bridge takes `.1`). `tag` keeps parallel runs apart (a few letters).
 */
export const createHosts = (tag: string, names: ReadonlyArray<string>, subnet24 = "10.250.0"): Hosts => {
  if (!/^[a-z0-9]{1,12}$/.test(tag)) throw new Error(`host tag ${tag}: 1-12 lower-case letters or digits`)
  const prefix = `${tag}${process.pid}`
  const nsOf = (name: string) => `${prefix}-${name}`
  const all: Array<string> = []
  const destroy = () => {
    live.delete(destroy)
    for (const ns of all) killAllIn(ns)
    for (const ns of all) try { ip("netns", "del", ns) } catch { /* already gone */ }
    all.length = 0
  }
  live.add(destroy)
  const make = (name: string, address: string): Host => {
    const namespace = nsOf(name)
    ip("netns", "add", namespace)
    all.push(namespace)
    ip("-n", namespace, "link", "set", "lo", "up")
    return { name, namespace, address, run: ["ip", "netns", "exec", namespace] }
  }
  try {
    const network = make("net", `${subnet24}.1`)
    ip("-n", network.namespace, "link", "add", "br0", "type", "bridge")
    ip("-n", network.namespace, "link", "set", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0")
    ip("-n", network.namespace, "addr", "add", `${network.address}/24`, "dev", "br0")
    ip("-n", network.namespace, "link", "set", "br0", "up")
    const hosts = new Map<string, Host>()
    names.forEach((name, i) => {
      if (!/^[a-z0-9]{1,8}$/.test(name)) throw new Error(`host name ${name}: 1-8 lower-case letters or digits`)
      const host = make(name, `${subnet24}.${10 + i}`)
      // The bridge's end is named after the host; the host's end is its eth0.
      ip("-n", network.namespace, "link", "add", `v-${name}`, "type", "veth", "peer", "name", "eth0", "netns", host.namespace)
      ip("-n", network.namespace, "link", "set", `v-${name}`, "master", "br0")
      ip("-n", network.namespace, "link", "set", `v-${name}`, "up")
      ip("-n", host.namespace, "addr", "add", `${host.address}/24`, "dev", "eth0")
      ip("-n", host.namespace, "link", "set", "eth0", "up")
      hosts.set(name, host)
    })
    const host = (name: string) => {
      const h = hosts.get(name)
      if (h === undefined) throw new Error(`no host ${name}`)
      return h
    }
    return {
      network, host, subnet: `${subnet24}.0/24`, destroy,
      cut: (name) => { ip("-n", host(name).namespace, "link", "set", "eth0", "down") },
      mend: (name) => { ip("-n", host(name).namespace, "link", "set", "eth0", "up") },
      kill: (name) => killAllIn(host(name).namespace),
    }
  } catch (e) {
    destroy()
    throw e
  }
}

/** Whether every namespace of this run is gone (for the test's own check of its clean-up). */
export const leftoverNamespaces = (tag: string): Array<string> =>
  ip("netns", "list").split("\n").map((l) => l.split(" ")[0]!).filter((ns) => ns.startsWith(`${tag}${process.pid}-`))

/** A process on `host`, speaking JSON lines over stdio (see netns-fetch.child.ts). */
export const spawnOn = (host: Host, argv: ReadonlyArray<string>) => {
  const [file, ...args] = [...host.run, ...argv]
  return spawn(file!, args, { stdio: ["pipe", "pipe", "inherit"] })
}
