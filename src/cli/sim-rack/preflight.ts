// Whether a simulated rack can run on real servers here, and what on this machine would stand in
// its way: missing programs, no root, a TFTP root `nobody` cannot read, and stray listeners on the
// ports every simulated machine uses (a tgtd on 0.0.0.0:3260 takes 3260 from every 127.77.x.y).
import { accessSync, constants, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs"
import { dirname, join, resolve } from "node:path"

/** What the rack runs: BMCs, their client, TFTP, the machines' targets, the writer, the sample image. */
export const RACK_PROGRAMS = ["ipmi_sim", "ipmitool", "dnsmasq", "tgtd", "tgtadm", "qemu-img", "mkfs.ext4"] as const

const onPath = (program: string): boolean =>
  (process.env["PATH"] ?? "").split(":").filter((d) => d !== "").some((dir) => {
    try { accessSync(join(dir, program), constants.X_OK); return true } catch { return false }
  })

/** Why the rack cannot run on real servers here (then `serve --sim` uses fake-hardware), or null. */
export const realRackUnavailable = (): string | null => {
  const reasons: string[] = []
  const missing = RACK_PROGRAMS.filter((p) => !onPath(p))
  if (missing.length > 0) reasons.push(`not installed: ${missing.join(", ")}`)
  if (process.getuid?.() !== 0) reasons.push("not running as root (TFTP binds port 69, tgtd needs root)")
  return reasons.length === 0 ? null : reasons.join("; ")
}

/** dnsmasq serves TFTP as `nobody`: every directory above the root must be searchable by others. */
export const unreadableByNobody = (tftpRoot: string): string | null => {
  for (let dir = dirname(resolve(tftpRoot)); ; dir = dirname(dir)) {
    let mode: number
    try { mode = statSync(dir).mode } catch { return null } // created later, with our umask
    if ((mode & 0o001) === 0) return `${dir} is not searchable by others (mode ${(mode & 0o777).toString(8)}): dnsmasq serves TFTP as nobody; chmod o+x it or choose another --state-dir`
    if (dir === "/") return null
  }
}

export interface Listener {
  readonly address: string
  readonly port: number
  /** "tgtd (pid 1234)", when the owner could be found. */
  readonly owner: string | null
}

const ipv4 = (hex: string) => hex.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join(".")
// tcp6 spells "::" as 32 zeros and ::ffff:a.b.c.d as 0000000000000000FFFF0000 + the IPv4 word.
const ipv6 = (hex: string) =>
  /^0{32}$/.test(hex) ? "::" : hex.slice(0, 24).toUpperCase() === "0000000000000000FFFF0000" ? `::ffff:${ipv4(hex.slice(24))}` : hex

/** Which process holds socket `inode`, by its /proc/<pid>/fd links. */
const ownerOf = (inode: string): string | null => {
  const wanted = `socket:[${inode}]`
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let fds: string[]
    try { fds = readdirSync(`/proc/${pid}/fd`) } catch { continue }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === wanted) return `${readFileSync(`/proc/${pid}/comm`, "utf8").trim()} (pid ${pid})`
      } catch { /* gone meanwhile */ }
    }
  }
  return null
}

/** TCP sockets listening on `port` at an address that takes it from `address` too (itself or a wildcard). */
export const blockingListeners = (port: number, addresses: ReadonlyArray<string>): ReadonlyArray<Listener> => {
  const found: Listener[] = []
  for (const [file, decode] of [["/proc/net/tcp", ipv4], ["/proc/net/tcp6", ipv6]] as const) {
    let table: string
    try { table = readFileSync(file, "utf8") } catch { continue }
    for (const line of table.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length < 10 || f[3] !== "0A") continue // 0A: LISTEN
      const [hexAddress, hexPort] = f[1]!.split(":") as [string, string]
      if (parseInt(hexPort, 16) !== port) continue
      const address = decode(hexAddress)
      if (address === "0.0.0.0" || address === "::" || addresses.includes(address) || addresses.some((a) => address === `::ffff:${a}`)) {
        found.push({ address, port, owner: ownerOf(f[9]!) })
      }
    }
  }
  return found
}

export const describeListeners = (listeners: ReadonlyArray<Listener>) =>
  listeners.map((l) => `${l.owner ?? "an unknown process"} on ${l.address.includes(":") ? `[${l.address}]` : l.address}:${l.port}`).join(", ")
