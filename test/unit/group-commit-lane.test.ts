// The group commit over a lane (ADR 0183): a group's callers are all answered before its afterGroup
// runs, and the next group is written only after that (a follower woken by afterGroup never reads a
// group whose writers have not run yet, ADR 0125); drain writes everything, lane tasks included.
import { test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import { makeGroupCommit } from "../../src/adapters/eventstore/group-commit.ts"
import { makeLane } from "../../src/adapters/system/background.ts"

const recorder = () => {
  const log: Array<string> = []
  const lane = makeLane(1)
  const groups = makeGroupCommit<string, string>({
    maxRequests: 100, maxWeight: 100, weight: () => 1, lane,
    writeGroup: (requests) => { log.push(`write ${requests.join(",")}`); return requests.map((r) => `${r} done`) },
    afterGroup: () => log.push("after group"),
  })
  return { log, groups, lane }
}

test("callers are answered before afterGroup, and the appends they make go in the next group, after it", async () => {
  const { log, groups, lane } = recorder()
  const caller = (name: string, then?: string) => groups.submit(name).pipe(
    Effect.tap((outcome) => Effect.sync(() => log.push(`answered ${outcome}`))),
    Effect.flatMap(() => then === undefined ? Effect.void : Effect.asVoid(groups.submit(then))),
  )
  await Effect.runPromise(Effect.all([caller("a", "c"), caller("b")], { concurrency: "unbounded" }))
  await lane.turn() // queued after the last group's afterGroup
  assert.deepEqual(log, ["write a,b", "answered a done", "answered b done", "after group", "write c", "after group"])
})

test("drain writes what is queued and answers the callers at once", () => {
  const { log, groups } = recorder()
  const answered: Array<string> = []
  Effect.runFork(Effect.map(groups.submit("x"), (o) => answered.push(o)))
  groups.drain()
  assert.deepEqual(log, ["write x", "after group"])
  assert.deepEqual(answered, ["x done"])
})
