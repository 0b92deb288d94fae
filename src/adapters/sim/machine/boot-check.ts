// What booting from the local disk needs: an MBR, and for a kernel booted with root=UUID=<uuid>,
// that UUID on the root partition (the last one, where the conductor puts it).
import { readExtUuid, readMbr } from "./disk.ts"

export type BootCheck = { readonly ok: true; readonly rootUuid: string | null } | { readonly ok: false; readonly reason: string }

const LINUX = 0x83

/** `expectedRootUuid` null: a whole-disk image boots through its own boot loader, only the MBR is checked. */
export const checkBootDisk = (diskPath: string, expectedRootUuid: string | null): BootCheck => {
  const parts = readMbr(diskPath)
  if (typeof parts === "string") return { ok: false, reason: parts }
  if (expectedRootUuid === null) return { ok: true, rootUuid: null }
  const root = parts.at(-1)
  if (root === undefined) return { ok: false, reason: "the MBR has no partitions" }
  if (root.type !== LINUX) {
    return { ok: false, reason: `the last partition (${root.number}) has type 0x${root.type.toString(16)}, not a Linux root (0x83)` }
  }
  const uuid = readExtUuid(diskPath, root.startBytes)
  if (typeof uuid !== "string") return { ok: false, reason: `partition ${root.number}: ${uuid.error}` }
  if (uuid !== expectedRootUuid.toLowerCase()) {
    return { ok: false, reason: `root=UUID=${expectedRootUuid} but partition ${root.number} holds filesystem ${uuid}` }
  }
  return { ok: true, rootUuid: uuid }
}
