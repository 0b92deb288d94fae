// The Metrics port and the HTTP API's request metrics on prom-client, exposed in the Prometheus text
// format at GET /metrics (ADR 0035). Fleet gauges are read when scraped from the counts the fleet
// projection keeps (no walk of the fleet per scrape: ADR 0187); one registry per service, not the global one.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client"
import type { MetricsShape } from "../../ports/index.ts"
import type { Fleet } from "../../application/projections/fleet.ts"
import { observeGcPauses } from "./gc-pauses.ts"

/** Seconds: from a power call (tens of ms) to an image write (minutes). */
const stepBuckets = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800]
/** Seconds: an append is sub-millisecond in memory, a few ms on SQLite or PostgreSQL. */
const appendBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]
const requestBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]

export interface RequestObservation {
  readonly method: string
  /** The route's pattern (/v1/nodes/:node), never the raw path: one series per route, not per node. */
  readonly route: string
  readonly status: number
  readonly seconds: number
}

export interface PrometheusMetrics {
  /** What the application reports through (provide it as the Metrics reference). */
  readonly port: MetricsShape
  readonly observeRequest: (r: RequestObservation) => void
  /** The fleet whose nodes the gauges count; until given, they read zero. */
  readonly attachFleet: (fleet: Fleet) => void
  readonly exposition: () => Promise<{ readonly contentType: string; readonly text: string }>
}

/**
 * How often the event-loop delay is sampled (prom-client's default). Its histogram records the whole
 * time between two samples, so a loop that never waits reads this much.
 */
export const loopDelaySamplingMs = 10

export const makePrometheusMetrics = (): PrometheusMetrics => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: "ironledger_process_", eventLoopMonitoringPrecision: loopDelaySamplingMs })
  observeGcPauses(registry, "ironledger_process_")
  let fleet: Fleet | null = null
  let logPosition = -1

  new Gauge({
    name: "ironledger_nodes_by_provision_state", help: "Nodes in each provision state.", labelNames: ["state"], registers: [registry],
    collect() {
      this.reset()
      if (fleet === null) return
      for (const [state, count] of Object.entries(fleet.countsByState())) this.set({ state }, count)
    },
  })
  new Gauge({
    name: "ironledger_nodes_by_power_state", help: "Nodes in each power state.", labelNames: ["state"], registers: [registry],
    collect() {
      this.reset()
      if (fleet === null) return
      for (const [state, count] of Object.entries(fleet.countsByPower())) this.set({ state }, count)
    },
  })
  new Gauge({
    name: "ironledger_nodes_in_maintenance", help: "Nodes in maintenance.", registers: [registry],
    collect() {
      this.set(fleet === null ? 0 : fleet.maintenanceCount())
    },
  })
  new Gauge({
    name: "ironledger_projection_lag_events",
    help: "Log position this process last appended at minus the fleet projection's position (0 when caught up).",
    registers: [registry],
    collect() {
      this.set(fleet === null ? 0 : Math.max(0, logPosition - fleet.position))
    },
  })
  const steps = new Histogram({
    name: "ironledger_hardware_step_duration_seconds", help: "Hardware steps by request type and hardware type.",
    labelNames: ["step", "driver"], buckets: stepBuckets, registers: [registry],
  })
  const stepFailures = new Counter({
    name: "ironledger_hardware_step_failures_total", help: "Hardware steps that failed, by request type and hardware type.",
    labelNames: ["step", "driver"], registers: [registry],
  })
  const timeouts = new Counter({
    name: "ironledger_wait_timeouts_total", help: "Ramdisk waits that ran out, by the state waited in.",
    labelNames: ["state"], registers: [registry],
  })
  const appends = new Histogram({
    name: "ironledger_event_store_append_seconds", help: "Latency of committed appends to the event store.",
    buckets: appendBuckets, registers: [registry],
  })
  const requests = new Counter({
    name: "ironledger_http_requests_total", help: "API requests by method, route pattern and status.",
    labelNames: ["method", "route", "status"], registers: [registry],
  })
  const requestSeconds = new Histogram({
    name: "ironledger_http_request_duration_seconds", help: "API request duration by method and route pattern.",
    labelNames: ["method", "route"], buckets: requestBuckets, registers: [registry],
  })

  const port: MetricsShape = {
    stepFinished: ({ step, driver, durationMs, failed }) => {
      steps.observe({ step, driver }, durationMs / 1000)
      if (failed) stepFailures.inc({ step, driver })
    },
    waitTimedOut: (state) => timeouts.inc({ state }),
    appended: (latencyMs, position) => {
      appends.observe(latencyMs / 1000)
      if (position > logPosition) logPosition = position
    },
  }
  return {
    port,
    observeRequest: ({ method, route, status, seconds }) => {
      requests.inc({ method, route, status: String(status) })
      requestSeconds.observe({ method, route }, seconds)
    },
    attachFleet: (f) => { fleet = f },
    exposition: async () => ({ contentType: registry.contentType, text: await registry.metrics() }),
  }
}
