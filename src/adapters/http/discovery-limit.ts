// Token buckets for the unauthenticated discovery post (ADR 0090): a few posts per source address
// and a bound for all sources together, so a flood costs the log nothing beyond its first posts.

export interface Bucket { tokens: number; at: number }

export interface RateLimit {
  /** Posts a source may make at once, and how many seconds each one takes to come back. */
  readonly burst: number
  readonly refillSeconds: number
}

export interface DiscoveryLimiter {
  /** Seconds to wait before `source` may post again, or 0 when the post may go ahead (and is counted). */
  readonly take: (source: string, nowMs: number) => number
}

const refill = (b: Bucket, limit: RateLimit, nowMs: number) => {
  b.tokens = Math.min(limit.burst, b.tokens + (nowMs - b.at) / 1000 / limit.refillSeconds)
  b.at = nowMs
}

export const makeDiscoveryLimiter = (perSource: RateLimit = { burst: 5, refillSeconds: 6 }, overall: RateLimit = { burst: 60, refillSeconds: 0.5 }, maxSources = 4096): DiscoveryLimiter => {
  const sources = new Map<string, Bucket>()
  const all: Bucket = { tokens: overall.burst, at: 0 }
  return {
    take: (source, nowMs) => {
      if (all.at === 0) all.at = nowMs
      refill(all, overall, nowMs)
      let b = sources.get(source)
      if (b === undefined) {
        // Forget the oldest source rather than grow without bound (Map keeps insertion order).
        if (sources.size >= maxSources) sources.delete(sources.keys().next().value!)
        sources.set(source, b = { tokens: perSource.burst, at: nowMs })
      }
      refill(b, perSource, nowMs)
      if (b.tokens < 1) return Math.ceil((1 - b.tokens) * perSource.refillSeconds)
      if (all.tokens < 1) return Math.ceil((1 - all.tokens) * overall.refillSeconds)
      b.tokens -= 1
      all.tokens -= 1
      return 0
    },
  }
}
