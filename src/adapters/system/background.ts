// The background lane: work that can wait for the next turn of the event loop (the conductor's
// fibers, callers of a written append group, the projection following the log) runs in slices of
// at most `sliceMs`, with a turn of the loop between slices. A turn polls the sockets, so a request
// waits for at most one slice, whatever the conductor has queued; the conductor in turn gets a
// slice every turn, however many requests arrive. Without it, one turn ran every task queued,
// tens of milliseconds under load, and reads waited behind them (ADR 0183).
import type * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scheduler from "effect/Scheduler"

/** Longest stretch of background work before the loop gets a turn. */
export const defaultSliceMs = 3

export interface Lane {
  /** Queues `task`; it runs in a later slice, after the tasks queued before it. */
  readonly schedule: (task: () => void) => void
  /** Resolves in a later slice: what follows the await runs as background work. */
  readonly turn: () => Promise<void>
  /** Runs every queued task now, and those they queue (a synchronous run of an Effect). */
  readonly flush: () => void
}

/**
 * Operations a fiber runs before it yields to the lane (Effect's MaxOpsBeforeYield, whose default is
 * 2,048): 2,048 of the conductor's or the notary's took up to 20 ms, longer than a slice.
 */
export const laneOpsBeforeYield = 256

/** Tasks released to one turn at most: each is its own immediate, so its microtasks run before the next. */
const perTurn = 64

export const makeLane = (sliceMs = defaultSliceMs): Lane => {
  let queue: Array<() => void> = []
  let head = 0
  /** Immediates set for this turn and not run yet. */
  let armed = 0
  /** When the first of this turn's immediates ran; -1 before it. */
  let sliceStart = -1

  const take = (): (() => void) | undefined => {
    if (head === queue.length) return undefined
    const task = queue[head]!
    queue[head++] = undefined as unknown as () => void
    if (head === queue.length) {
      queue = []
      head = 0
    }
    return task
  }

  // Each task runs in an immediate of its own: Node runs the microtasks a task started (promise
  // continuations, the fibers they resume) before the next immediate, so the slice's clock counts
  // them too. Immediates set while the check phase runs wait for the next turn, after its I/O.
  const arm = () => {
    const n = Math.min(queue.length - head, perTurn)
    armed += n
    for (let i = 0; i < n; i++) setImmediate(step)
  }

  function step() {
    armed--
    const now = performance.now()
    if (sliceStart < 0) sliceStart = now
    try {
      if (now - sliceStart < sliceMs) take()?.()
    } finally {
      if (armed === 0) {
        sliceStart = -1
        if (head < queue.length) arm()
      }
    }
  }

  const schedule = (task: () => void) => {
    queue.push(task)
    if (armed === 0) arm()
  }

  return {
    schedule,
    turn: () => new Promise<void>((resume) => schedule(resume)),
    flush: () => {
      for (let task = take(); task !== undefined; task = take()) task()
    },
  }
}

/** The process's one lane: the event loop it slices is the process's one loop (one per thread). */
export const background = makeLane()

/**
 * Effect's scheduler over a lane: fibers that yield (after their operation budget), forked fibers,
 * and fibers woken by a queue or a semaphore continue in the lane's slices, first queued first run.
 * Effect's priorities (yieldNowWith) are not kept: the service never yields with one. Not Effect's
 * MixedScheduler over the lane: its dispatcher runs all of a fiber's queued tasks in one go, so a
 * fiber forking a thousand children would start them all in one task, past any slice.
 */
export const laneScheduler = (lane: Lane): Scheduler.Scheduler => {
  const dispatcher: Scheduler.SchedulerDispatcher = {
    scheduleTask: (task) => lane.schedule(task),
    flush: () => lane.flush(),
  }
  return {
    executionMode: "async",
    shouldYield: (fiber: Fiber.Fiber<unknown, unknown>) => fiber.currentOpCount >= fiber.cache.maxOpsBeforeYield,
    makeDispatcher: () => dispatcher,
  }
}

/** The lane as the Effect runtime's scheduler, with fibers yielding every laneOpsBeforeYield operations. */
export const laneLayer = (lane: Lane) =>
  Layer.mergeAll(
    Layer.succeed(Scheduler.Scheduler, laneScheduler(lane)),
    Layer.succeed(Scheduler.MaxOpsBeforeYield, laneOpsBeforeYield),
  )
