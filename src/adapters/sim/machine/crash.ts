// The dieMidWrite fault: watch the exported disk file and, once the conductor's write is under way,
// die like a machine losing power: tgtd killed, this process killed, nothing cleaned up.
import type { DieMidWrite } from "./config.ts"
import { allocatedBytes, modifiedAt } from "./disk.ts"

const POLL_MS = 10

/** Starts watching; `die` is called at most once. Returns a function that stops the watch. */
export const watchForMidWriteDeath = (diskPath: string, fault: DieMidWrite, die: (written: number) => void): (() => void) => {
  const baseAllocated = allocatedBytes(diskPath)
  const baseModified = modifiedAt(diskPath)
  let firstWriteAt: number | null = null
  const timer = setInterval(() => {
    const written = Math.max(0, allocatedBytes(diskPath) - baseAllocated)
    if (firstWriteAt === null && (written > 0 || modifiedAt(diskPath) !== baseModified)) firstWriteAt = performance.now()
    const byBytes = fault.afterBytes !== null && written >= fault.afterBytes
    const byTime = fault.afterMs !== null && firstWriteAt !== null && performance.now() - firstWriteAt >= fault.afterMs
    if (byBytes || byTime) {
      clearInterval(timer)
      die(written)
    }
  }, POLL_MS)
  return () => clearInterval(timer)
}
