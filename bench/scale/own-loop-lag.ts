// A benchmark thread's own event-loop delay, apart from the server's (loop-lag.ts) so that the read
// load's thread loads nothing of the service. A loop-delay histogram records the whole time between
// two of its samples: the figures are the delay beyond the sampling interval.
import { monitorEventLoopDelay } from "node:perf_hooks"

export interface LoopLag { readonly maxMs: number; readonly p99Ms: number }

/** A delay beyond the sampling interval. */
export const beyond = (ms: number, samplingMs: number) => Math.max(0, ms - samplingMs)

/** This thread's own event-loop delay from now until `stop`, sampled every `samplingMs`. */
export const ownLoopLag = (samplingMs: number) => {
  const histogram = monitorEventLoopDelay({ resolution: samplingMs })
  histogram.enable()
  return {
    stop: (): LoopLag => {
      histogram.disable()
      return { maxMs: beyond(histogram.max / 1e6, samplingMs), p99Ms: beyond(histogram.percentile(99) / 1e6, samplingMs) }
    },
  }
}
