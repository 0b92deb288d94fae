// What a simulated machine's running rescue ramdisk keeps in RAM (ADR 0095, 0136): root's crypt
// SHA-512 hash, as the real ramdisk's /etc/shadow holds it. Set when a rescue ramdisk boots and
// fetches it; gone when the machine powers off or reboots. Never the password itself.
// With a dir (the rack's, shared by every process that runs these machines) each hash is a file
// there, readable by owner only, so a console opened in one process sees the rescue another booted.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { isRescuePasswordHash } from "../../application/rescue/password.ts"

export interface RescueShadows {
  /** The root hash the node's running rescue ramdisk set, or null when none runs. */
  readonly hashOf: (nodeId: string) => string | null
  readonly set: (nodeId: string, hash: string) => void
  /** The machine's RAM is gone (power off, reboot). */
  readonly clear: (nodeId: string) => void
  /** Told when a rescue ramdisk starts its login on the node (in this process); returns the unsubscribe. */
  readonly onRescueLogin: (nodeId: string, listener: () => void) => () => void
}

export const makeRescueShadows = (dir?: string): RescueShadows => {
  const memory = new Map<string, string>()
  const listeners = new Map<string, Set<() => void>>()
  const fileOf = (nodeId: string) => {
    if (!/^[0-9a-f-]{36}$/i.test(nodeId)) throw new Error(`${JSON.stringify(nodeId)} is not a node UUID`)
    return join(dir!, "rescue-shadow", nodeId)
  }
  const read = (nodeId: string): string | null => {
    if (dir === undefined) return memory.get(nodeId) ?? null
    try {
      const hash = readFileSync(fileOf(nodeId), "utf8")
      return isRescuePasswordHash(hash) ? hash : null
    } catch {
      return null
    }
  }
  return {
    hashOf: read,
    set: (nodeId, hash) => {
      if (!isRescuePasswordHash(hash)) throw new Error("a rescue ramdisk keeps only a crypt SHA-512 hash")
      if (dir === undefined) memory.set(nodeId, hash)
      else {
        mkdirSync(join(dir, "rescue-shadow"), { recursive: true, mode: 0o700 })
        writeFileSync(fileOf(nodeId), hash, { mode: 0o600 })
      }
      for (const l of listeners.get(nodeId) ?? []) l()
    },
    clear: (nodeId) => {
      memory.delete(nodeId)
      if (dir !== undefined) rmSync(fileOf(nodeId), { force: true })
    },
    onRescueLogin: (nodeId, listener) => {
      const set = listeners.get(nodeId) ?? new Set()
      listeners.set(nodeId, set.add(listener))
      return () => { set.delete(listener); if (set.size === 0) listeners.delete(nodeId) }
    },
  }
}
