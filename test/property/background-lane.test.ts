// The background lane (src/adapters/system/background.ts): every task runs once, in the order it
// was queued, and a backlog longer than a slice gives the event loop turns while it drains, so
// requests are not held behind it. Microtasks a task starts count against its slice.
import { describe, test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { makeLane } from "../../src/adapters/system/background.ts"

const busy = (ms: number) => {
  const until = performance.now() + ms
  while (performance.now() < until) { /* the work a task does */ }
}

/** Resolves once the lane has run every task it was given (the last one says so). */
const drained = () => {
  let done!: () => void
  const promise = new Promise<void>((resolve) => { done = resolve })
  return { promise, done }
}

describe("background lane", () => {
  test("runs every task once, first queued first run, also tasks queued by tasks", async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ children: fc.nat(3), ms: fc.constantFrom(0, 0, 0, 0.2) }), { minLength: 1, maxLength: 60 }),
      async (plan) => {
        const lane = makeLane(1)
        const ran: Array<string> = []
        const queued: Array<string> = []
        const end = drained()
        let pendingTasks = 0
        const add = (name: string, ms: number, children: number) => {
          queued.push(name)
          pendingTasks++
          lane.schedule(() => {
            ran.push(name)
            busy(ms)
            for (let c = 0; c < children; c++) add(`${name}.${c}`, 0, 0)
            if (--pendingTasks === 0) end.done()
          })
        }
        plan.forEach((p, i) => add(String(i), p.ms, p.children))
        await end.promise
        // First queued first run: a child is queued when its parent runs, after the tasks queued before.
        assert.deepEqual(ran, queued)
      },
    ), { numRuns: 40 })
  })

  test("a backlog longer than a slice lets the event loop take turns while it drains", async () => {
    const lane = makeLane(3)
    let ran = 0
    const end = drained()
    for (let i = 0; i < 100; i++) lane.schedule(() => { busy(0.5); if (++ran === 100) end.done() })
    // A timer queued behind 50 ms of background work fires long before the work is done.
    const ranWhenTimerFired = await new Promise<number>((resolve) => setTimeout(() => resolve(ran), 0))
    assert.ok(ranWhenTimerFired < 30, `the timer waited for ${ranWhenTimerFired} of 100 tasks`)
    await end.promise
    assert.equal(ran, 100)
  })

  test("the microtasks a task starts count against its slice", async () => {
    const lane = makeLane(3)
    const order: Array<string> = []
    const end = drained()
    lane.schedule(() => {
      order.push("a")
      void Promise.resolve().then(() => { busy(5); order.push("a's continuation") })
    })
    lane.schedule(() => { order.push("b"); end.done() })
    // Queued after the lane's first immediate, so it runs in the next turn: before b if a's
    // continuation used up the slice, as it must.
    setImmediate(() => order.push("next turn"))
    await end.promise
    assert.deepEqual(order, ["a", "a's continuation", "next turn", "b"])
  })

  test("flush runs the queue, and what it queues, at once", () => {
    const lane = makeLane(1)
    const ran: Array<number> = []
    lane.schedule(() => { ran.push(1); lane.schedule(() => ran.push(3)) })
    lane.schedule(() => ran.push(2))
    lane.flush()
    assert.deepEqual(ran, [1, 2, 3])
  })
})
