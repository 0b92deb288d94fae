// Locks by name, taken together: an operation holds the locks of exactly the names it touches (a
// node, the MACs it claims), so operations on different nodes never wait for each other. Names are
// taken in sorted order, so two operations sharing names cannot deadlock. A name's lock exists only
// while someone holds or waits for it: memory follows the work in flight, not the fleet.
import * as Effect from "effect/Effect"
import * as Semaphore from "effect/Semaphore"

export interface KeyedLock {
  readonly withKeys: <A, E, R>(keys: ReadonlyArray<string>, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** How many names have a lock now (held or waited for). */
  readonly size: () => number
}

export const makeKeyedLock = (): KeyedLock => {
  const locks = new Map<string, { readonly permit: Semaphore.Semaphore; users: number }>()
  const take = (key: string) => Effect.sync(() => {
    let lock = locks.get(key)
    if (lock === undefined) locks.set(key, lock = { permit: Semaphore.makeUnsafe(1), users: 0 })
    lock.users++
    return lock
  })
  const release = (key: string) => Effect.sync(() => {
    const lock = locks.get(key)
    if (lock !== undefined && --lock.users === 0) locks.delete(key)
  })
  const withKey = <A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.acquireUseRelease(take(key), (lock) => lock.permit.withPermit(effect), () => release(key))
  return {
    withKeys: (keys, effect) => [...new Set(keys)].sort().reduceRight((inner, key) => withKey(key, inner), effect),
    size: () => locks.size,
  }
}
