// Keyed single-flight: concurrent callers of one key share one run of the work. Promises, not
// fibers, on purpose: a caller that gives up (timeout, interrupt) must not cancel the others' work.
export interface SingleFlight {
  readonly run: <A>(key: string, work: () => Promise<A>) => Promise<A>
  readonly busy: (key: string) => boolean
}

export const makeSingleFlight = (): SingleFlight => {
  const inflight = new Map<string, Promise<unknown>>()
  return {
    busy: (key) => inflight.has(key),
    run: <A>(key: string, work: () => Promise<A>): Promise<A> => {
      const running = inflight.get(key)
      if (running !== undefined) return running as Promise<A>
      const started = work().finally(() => inflight.delete(key))
      inflight.set(key, started)
      return started
    },
  }
}
