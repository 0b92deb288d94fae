// Group commit: requests that arrive together (in one burst of the event loop) are written by ONE
// call of `writeGroup`, so a store that pays an fsync per transaction pays it once per group, not
// once per append. Kept apart from SQLite so the queueing, bounding and interruption rules are
// in one place; the store only says how to write a group. See ADR 0003.
import * as Effect from "effect/Effect"
import type { Lane } from "../system/background.ts"

export interface GroupCommitOptions<Request, Outcome> {
  /** At most this many requests per group. */
  readonly maxRequests: number
  /** At most this much total weight per group (a single heavier request still forms its own group). */
  readonly maxWeight: number
  readonly weight: (request: Request) => number
  /**
   * Writes the requests (in arrival order) and returns one outcome per request, in the same order,
   * once they are durable. Synchronous: nothing else runs while a group is written.
   */
  readonly writeGroup: (requests: ReadonlyArray<Request>) => ReadonlyArray<Outcome>
  /**
   * Runs once the group's callers have been answered (subscribers are woken here): a writer then
   * folds its own events in before the log brings them back to it as news (ADR 0125).
   */
  readonly afterGroup?: () => void
  /**
   * Where the callers are resumed, and afterGroup run after them: a lane runs them in slices with
   * turns of the event loop between (ADR 0183). Without one, all of them run at once, in the flush.
   */
  readonly lane?: Lane
}

export interface GroupCommit<Request, Outcome> {
  /**
   * Queues the request for the next group and completes with its outcome after that group is
   * written. Interrupted while still queued, the request is dropped (never written); once its
   * group is being written it is written anyway, and the outcome is simply not observed.
   */
  readonly submit: (request: Request) => Effect.Effect<Outcome>
  /** Writes everything queued, now (before the store closes). */
  readonly drain: () => void
}

interface Pending<Request, Outcome> {
  readonly request: Request
  /** undefined once the caller was interrupted or has been answered. */
  resume: ((outcome: Effect.Effect<Outcome>) => void) | undefined
}

export const makeGroupCommit = <Request, Outcome>(
  options: GroupCommitOptions<Request, Outcome>,
): GroupCommit<Request, Outcome> => {
  let queue: Array<Pending<Request, Outcome>> = []
  let scheduled = false

  /** The oldest live requests, up to the bounds; dropped ones are discarded on the way. */
  const takeGroup = (): Array<Pending<Request, Outcome>> => {
    const group: Array<Pending<Request, Outcome>> = []
    let weight = 0
    let taken = 0
    for (; taken < queue.length; taken++) {
      const pending = queue[taken]!
      if (pending.resume === undefined) continue
      const w = options.weight(pending.request)
      if (group.length > 0 && (group.length >= options.maxRequests || weight + w > options.maxWeight)) break
      group.push(pending)
      weight += w
    }
    queue = taken === queue.length ? [] : queue.slice(taken)
    return group
  }

  const writeOneGroup = () => {
    const group = takeGroup()
    if (group.length === 0) return
    let answers: ReadonlyArray<Effect.Effect<Outcome>>
    try {
      const outcomes = options.writeGroup(group.map((pending) => pending.request))
      answers = outcomes.map((outcome) => Effect.succeed(outcome))
    } catch (defect) {
      // writeGroup reports store failures as outcomes; a throw is a bug, and must not leave
      // every caller of the group waiting forever.
      answers = group.map(() => Effect.die(defect))
    }
    // Resuming a caller runs its fiber on the spot, and it may interrupt a sibling of this group
    // (whose resume is then cleared): read each resume just before calling it.
    const answer = (i: number) => {
      const resume = group[i]!.resume
      group[i]!.resume = undefined
      resume?.(answers[i]!)
    }
    const lane = options.lane
    if (lane === undefined) {
      for (let i = 0; i < group.length; i++) answer(i)
      options.afterGroup?.()
      return
    }
    // The lane runs tasks in the order they were queued, and the next group's flush is queued after
    // these (by the callers' appends, or by flush below): as without a lane, the callers and then the
    // subscribers run before the next group is written, so a subscriber never reads a group whose
    // writers have not folded it in yet (ADR 0125).
    for (let i = 0; i < group.length; i++) lane.schedule(() => answer(i))
    if (options.afterGroup !== undefined) lane.schedule(options.afterGroup)
  }

  const flush = () => {
    scheduled = false
    writeOneGroup()
    // What is left (over the bounds, or queued by the callers just resumed) goes in the next
    // group, after the event loop has had a turn for timers and I/O.
    if (queue.length > 0) schedule()
  }

  /**
   * setImmediate, not a microtask: a fiber woken by a timer or by I/O (an ipmitool exit, an HTTP
   * request) runs inside that one callback, and a microtask would flush after each callback; a
   * check-phase flush collects every append of the loop turn's timers and I/O, and of the fibers
   * Effect's scheduler (itself on setImmediate) runs. A lone append pays one loop turn (tens of
   * microseconds) on top of its fsync. Measured in ADR 0003. With a lane, the flush is a lane task:
   * it collects what the tasks before it appended.
   */
  function schedule() {
    if (scheduled) return
    scheduled = true
    if (options.lane === undefined) setImmediate(flush)
    else options.lane.schedule(flush)
  }

  return {
    submit: (request) =>
      Effect.callback<Outcome>((resume) => {
        const pending: Pending<Request, Outcome> = { request, resume }
        queue.push(pending)
        schedule()
        return Effect.sync(() => {
          pending.resume = undefined
        })
      }),
    drain: () => {
      // The lane's tasks first: a group's callers and subscribers run before the next group is written.
      for (options.lane?.flush(); queue.length > 0; options.lane?.flush()) writeOneGroup()
    },
  }
}
