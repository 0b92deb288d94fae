// Metrics port: what the application reports as it works (hardware steps, wait time-outs, appends).
// A Reference with a no-op default, so code and tests that provide none pay nothing (ADR 0035).
import * as Context from "effect/Context"

export interface StepObservation {
  /** The hardware request's event type (PowerOnRequested, ImageWriteRequested ...). */
  readonly step: string
  /** The node's hardware type (Ironic's driver field). */
  readonly driver: string
  readonly durationMs: number
  readonly failed: boolean
}

export interface MetricsShape {
  readonly stepFinished: (step: StepObservation) => void
  /** A node's ramdisk wait ran out (the state it waited in). */
  readonly waitTimedOut: (state: string) => void
  /** One append committed: how long it took and the log position it reached. */
  readonly appended: (latencyMs: number, position: number) => void
}

export const noMetrics: MetricsShape = { stepFinished: () => {}, waitTimedOut: () => {}, appended: () => {} }

export const Metrics = Context.Reference<MetricsShape>("ironledger/Metrics", { defaultValue: () => noMetrics })
