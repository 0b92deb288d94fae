// Event-loop delay: the server's, read from its Prometheus /metrics (prom-client's
// monitorEventLoopDelay gauges), and a benchmark thread's own (own-loop-lag.ts). Each scrape resets the
// server's histogram, so a scrape before a phase and one after it give the longest stall and the p99
// delay of the phase alone. A histogram records the whole time between two of its samples (the
// server's are 10 ms apart): a loop that never waits reads 10 ms (p50 10.2, p99 10.3 on an idle
// process). The figures here are the delay beyond the sampling interval. Beside them, the major
// (full) collections since the previous call: their marking shares the service's core with the
// loop, and a phase that holds one reads differently from one that does not (ADR 0199).
import { loopDelaySamplingMs } from "../../src/adapters/metrics/prometheus.ts"
import { beyond, type LoopLag } from "./own-loop-lag.ts"
import type { Client } from "./http.ts"

export type { LoopLag }

/** The server's loop delay over a phase, with the major collections that fell into it. */
export interface ServerLoop extends LoopLag { readonly majorGcs: number; readonly majorGcPauseMs: number }

const gauge = (text: string, name: string): number => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, "m").exec(text)
  if (m === null) throw new Error(`/metrics has no ${name}`)
  return Number(m[1]) * 1000
}

/** The major collections' count or summed pause (the service's `gc` histogram, ADR 0199), 0 before the first. */
const major = (text: string, part: "count" | "sum"): number => {
  const m = new RegExp(`^ironledger_process_nodejs_gc_duration_seconds_${part}\\{kind="major"\\} ([0-9.eE+-]+)$`, "m").exec(text)
  return m === null ? 0 : Number(m[1])
}

// The counters of the previous call: a restarted server starts them again from 0.
let last = { count: 0, sum: 0 }

/** The event-loop delay and the major collections since the previous call (or since the server started). */
export const loopLag = async (client: Client): Promise<ServerLoop> => {
  const r = await client.send("GET", "/metrics")
  if (r.status !== 200) throw new Error(`GET /metrics: ${r.status} ${r.body.slice(0, 200)}`)
  const figure = (name: string) => beyond(gauge(r.body, name), loopDelaySamplingMs)
  const now = { count: major(r.body, "count"), sum: major(r.body, "sum") }
  const since = now.count < last.count ? now : { count: now.count - last.count, sum: now.sum - last.sum }
  last = now
  return {
    maxMs: figure("ironledger_process_nodejs_eventloop_lag_max_seconds"), p99Ms: figure("ironledger_process_nodejs_eventloop_lag_p99_seconds"),
    majorGcs: since.count, majorGcPauseMs: since.sum * 1000,
  }
}

export const lagText = (l: LoopLag) => `max ${l.maxMs.toFixed(0)} ms, p99 ${l.p99Ms.toFixed(0)} ms`

/** How many major collections a phase held, and their pauses (without the marking before them). */
export const majorText = (l: ServerLoop) => `major collections ${l.majorGcs}, their pauses ${l.majorGcPauseMs.toFixed(0)} ms`
