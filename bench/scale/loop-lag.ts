// Event-loop delay: the server's, read from its Prometheus /metrics (prom-client's
// monitorEventLoopDelay gauges), and a benchmark thread's own (own-loop-lag.ts). Each scrape resets the
// server's histogram, so a scrape before a phase and one after it give the longest stall and the p99
// delay of the phase alone. A histogram records the whole time between two of its samples (the
// server's are 10 ms apart): a loop that never waits reads 10 ms (p50 10.2, p99 10.3 on an idle
// process). The figures here are the delay beyond the sampling interval.
import { loopDelaySamplingMs } from "../../src/adapters/metrics/prometheus.ts"
import { beyond, type LoopLag } from "./own-loop-lag.ts"
import type { Client } from "./http.ts"

export type { LoopLag }

const gauge = (text: string, name: string): number => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, "m").exec(text)
  if (m === null) throw new Error(`/metrics has no ${name}`)
  return Number(m[1]) * 1000
}

/** The event-loop delay since the previous call (or since the server started). */
export const loopLag = async (client: Client): Promise<LoopLag> => {
  const r = await client.send("GET", "/metrics")
  if (r.status !== 200) throw new Error(`GET /metrics: ${r.status} ${r.body.slice(0, 200)}`)
  const figure = (name: string) => beyond(gauge(r.body, name), loopDelaySamplingMs)
  return { maxMs: figure("ironledger_process_nodejs_eventloop_lag_max_seconds"), p99Ms: figure("ironledger_process_nodejs_eventloop_lag_p99_seconds") }
}

export const lagText = (l: LoopLag) => `max ${l.maxMs.toFixed(0)} ms, p99 ${l.p99Ms.toFixed(0)} ms`
