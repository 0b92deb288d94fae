// The read load operators' dashboards put on the API: `readers` clients, each looping over
// GET /v1/nodes/{id} and GET /v1/nodes (one page) until stopped, pausing `pauseMs` after each answer
// as operators' tools poll (0: back to back, a load that takes whatever the service can give). They run on a worker
// thread of their own: in the load client's main thread, answering 64 readers' responses delayed
// the lifecycle workers' own polls, and the fairness figures measured the client, not the service.
import { Worker } from "node:worker_threads"
import type { LoopLag } from "./own-loop-lag.ts"
import type { Bursts } from "./read-bursts.ts"

export interface ReadFigures {
  readonly requests: number; readonly errors: number; readonly getP50: number; readonly getP99: number; readonly listP50: number; readonly listP99: number
  /** The read load's own event-loop delay: how late it may have read a reply. */
  readonly clientLoop: LoopLag
  /** The reads slower than `slowMs`, in bursts. */
  readonly bursts: Bursts
  /** The highest p99 among the phase's 5-second windows, and how many there were. */
  readonly worstWindow: { readonly ms: number; readonly windows: number }
}

export const startReadLoad = (origin: URL, readers: number, ids: ReadonlyArray<string>, listLimit: number, pauseMs: number, slowMs: number) => {
  const worker = new Worker(new URL("./reads-worker.ts", import.meta.url), { workerData: { origin: origin.href, readers, ids: [...ids], listLimit, pauseMs, slowMs } })
  // The worker says "reading" once its readers run (loading its modules takes a while), then its figures.
  let reading!: () => void
  const started = new Promise<void>((r) => { reading = r })
  const figures = new Promise<ReadFigures>((done, fail) => {
    worker.on("message", (m: ReadFigures | "reading") => m === "reading" ? reading() : done(m))
    worker.once("error", fail)
    worker.once("exit", (code) => fail(new Error(`the read load's worker exited (${code}) before its figures`)))
  })
  return {
    /** Resolves once the readers are reading: a phase measured under the load starts after it. */
    started: Promise.race([started, figures.then(() => {})]),
    stop: async (): Promise<ReadFigures> => {
      worker.postMessage("stop")
      const f = await figures
      await worker.terminate()
      return f
    },
  }
}
