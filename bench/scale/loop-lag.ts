// The server's event-loop delay, read from its Prometheus /metrics (prom-client's
// monitorEventLoopDelay gauges). Each scrape resets that histogram, so a scrape before a phase
// and one after it give the longest stall and the p99 delay of the phase alone.
// The histogram records the whole time between two of its samples, 10 ms apart: a loop that never
// waits reads 10 ms (p50 10.2, p99 10.3 on an idle process). The figures here are the delay beyond
// that interval.
import { loopDelaySamplingMs } from "../../src/adapters/metrics/prometheus.ts"
import type { Client } from "./http.ts"

export interface LoopLag { readonly maxMs: number; readonly p99Ms: number }

const gauge = (text: string, name: string): number => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, "m").exec(text)
  if (m === null) throw new Error(`/metrics has no ${name}`)
  return Number(m[1]) * 1000
}

/** The event-loop delay since the previous call (or since the server started). */
export const loopLag = async (client: Client): Promise<LoopLag> => {
  const r = await client.send("GET", "/metrics")
  if (r.status !== 200) throw new Error(`GET /metrics: ${r.status} ${r.body.slice(0, 200)}`)
  const beyond = (name: string) => Math.max(0, gauge(r.body, name) - loopDelaySamplingMs)
  return { maxMs: beyond("ironledger_process_nodejs_eventloop_lag_max_seconds"), p99Ms: beyond("ironledger_process_nodejs_eventloop_lag_p99_seconds") }
}

export const lagText = (l: LoopLag) => `max ${l.maxMs.toFixed(0)} ms, p99 ${l.p99Ms.toFixed(0)} ms`
