// The server's event-loop delay, read from its Prometheus /metrics (prom-client's
// monitorEventLoopDelay gauges). Each scrape resets that histogram, so a scrape before a phase
// and one after it give the longest stall and the p99 delay of the phase alone.
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
  return { maxMs: gauge(r.body, "ironledger_process_nodejs_eventloop_lag_max_seconds"), p99Ms: gauge(r.body, "ironledger_process_nodejs_eventloop_lag_p99_seconds") }
}

export const lagText = (l: LoopLag) => `max ${l.maxMs.toFixed(0)} ms, p99 ${l.p99Ms.toFixed(0)} ms`
