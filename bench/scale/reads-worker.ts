// The read load's thread (reads.ts): readers loop until "stop", then post their figures. A reader
// waits `pauseMs` after each answer before its next request (0: back to back).
import { parentPort, workerData } from "node:worker_threads"
import { Client, percentile } from "./http.ts"
import { ownLoopLag } from "./own-loop-lag.ts"
import { readBursts, worstWindowP99 } from "./read-bursts.ts"

const { origin, readers, ids, listLimit, pauseMs, slowMs } = workerData as {
  origin: string; readers: number; ids: ReadonlyArray<string>; listLimit: number; pauseMs: number; slowMs: number
}
const pause = () => new Promise((wake) => setTimeout(wake, pauseMs))
const client = new Client(new URL(origin), readers)
const gets: Array<number> = []
const lists: Array<number> = []
/** Every read's start and latency, for the bursts of slow ones. */
const starts: Array<number> = []
const latencies: Array<number> = []
let errors = 0
let stopped = false
const path = (i: number) => (i % 4 === 0 ? `/v1/nodes?limit=${listLimit}` : `/v1/nodes/${ids[(i * 7919) % ids.length]}`)
/**
 * Readers start spread over one pause, as independent pollers are, each with one request not
 * counted (its connection's handshake) and a pause after it: started together, their first 64
 * requests came as one burst that no steady load makes, 0.4 % of a phase's reads and most of its p99.
 */
const reader = async (r: number, warmed: () => void) => {
  await new Promise((wake) => setTimeout(wake, (r * pauseMs) / readers))
  await client.send("GET", path(r)).catch(() => undefined)
  warmed()
  if (pauseMs > 0) await pause()
  for (let i = r; !stopped; i++) {
    const list = i % 4 === 0
    const t0 = performance.now()
    const reply = await client.send("GET", path(i)).catch(() => ({ status: 0 }))
    const ms = performance.now() - t0
    ;(list ? lists : gets).push(ms)
    starts.push(t0)
    latencies.push(ms)
    if (reply.status !== 200) errors++
    if (pauseMs > 0) await pause()
  }
}
const warmed: Array<Promise<void>> = []
const running = Promise.all(Array.from({ length: readers }, (_, r) => {
  let done!: () => void
  warmed.push(new Promise<void>((w) => { done = w }))
  return reader(r, done)
}))
await Promise.all(warmed)
// This thread's own loop delay, sampled every 1 ms: a reply it reads late is timed late, and that is
// the client's, not the service's.
const loop = ownLoopLag(1)
parentPort!.postMessage("reading")
parentPort!.once("message", async () => {
  stopped = true
  const clientLoop = loop.stop()
  await running
  client.close()
  parentPort!.postMessage({
    requests: gets.length + lists.length, errors,
    getP50: percentile(gets, 50), getP99: percentile(gets, 99), listP50: percentile(lists, 50), listP99: percentile(lists, 99),
    clientLoop, bursts: readBursts(starts, latencies, slowMs), worstWindow: worstWindowP99(starts, latencies),
  })
})
