// A heap snapshot of the server at a chosen moment (it runs with --heapsnapshot-signal=SIGUSR2):
// the snapshot is written by the server's main thread, so the file is complete once its size stops
// moving and the server answers again.
import { readdirSync, statSync } from "node:fs"
import { join } from "node:path"

const snapshots = (dir: string) => new Set(readdirSync(dir).filter((f) => f.endsWith(".heapsnapshot")))

/** Sends SIGUSR2 to the server and returns the path of the snapshot it wrote into `dir`. */
export const takeHeapSnapshot = async (pid: number, dir: string, timeoutMs = 600_000): Promise<string> => {
  const before = snapshots(dir)
  process.kill(pid, "SIGUSR2")
  const t0 = performance.now()
  let last = -1
  for (;;) {
    await new Promise((w) => setTimeout(w, 1000))
    const file = [...snapshots(dir)].find((f) => !before.has(f))
    if (file !== undefined) {
      const size = statSync(join(dir, file)).size
      if (size > 0 && size === last) return join(dir, file)
      last = size
    }
    if (performance.now() - t0 > timeoutMs) throw new Error(`no heap snapshot from ${pid} within ${timeoutMs} ms`)
  }
}
