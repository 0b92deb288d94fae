// The state machine table against Ironic's (ironic/common/states.py), written out here as the
// reference lists it: "state: verb -> target; verb/verb -> target".
import { test } from "node:test"
import assert from "node:assert/strict"
import { isStable, next, provisionStates, targetOf, transitions } from "../../../src/domain/index.ts"

const ironic = `
enroll: manage -> verifying
verifying: done -> manageable; fail -> enroll
manageable: provide -> cleaning; clean -> cleaning; inspect -> inspecting; adopt -> adopting
cleaning: done -> available; manage -> manageable; wait -> clean wait; fail -> clean failed
clean wait: resume -> cleaning; fail/abort -> clean failed
clean failed: manage -> manageable
available: deploy -> deploying; manage -> manageable
deploying: wait -> wait call-back; done -> active; fail -> deploy failed
wait call-back: resume -> deploying; fail -> deploy failed; abort -> deploy failed; delete -> deleting
deploy failed: rebuild -> deploying; deploy -> deploying; delete -> deleting
active: rebuild -> deploying; delete -> deleting; rescue -> rescuing
deleting: clean -> cleaning; fail -> error
error: rebuild -> deploying; delete -> deleting
inspecting: done -> manageable; wait -> inspect wait; fail -> inspect failed
inspect wait: done -> manageable; resume -> inspecting; fail/abort -> inspect failed
inspect failed: manage -> manageable; inspect -> inspecting
adopting: done -> active; fail -> adopt failed
adopt failed: adopt -> adopting; manage -> manageable
rescuing: done -> rescue; wait -> rescue wait; fail -> rescue failed
rescue wait: resume -> rescuing; fail/abort -> rescue failed; delete -> deleting
rescue: rescue -> rescuing; unrescue -> unrescuing; delete -> deleting
rescue failed: rescue -> rescuing; unrescue -> unrescuing; delete -> deleting
unrescue failed: rescue -> rescuing; unrescue -> unrescuing; delete -> deleting
unrescuing: done -> active; fail -> unrescue failed
`

const reference = ironic.trim().split("\n").flatMap((line) => {
  const [from, edges] = line.split(": ") as [string, string]
  return edges.split("; ").flatMap((edge) => {
    const [verbs, to] = edge.split(" -> ") as [string, string]
    return verbs.split("/").map((verb) => `${from} --${verb}--> ${to}`)
  })
})

test("the table has exactly Ironic's edges", () => {
  assert.deepEqual(transitions.map((t) => `${t.from} --${t.verb}--> ${t.to}`).sort(), [...reference].sort())
})

test("next follows the table and nothing else", () => {
  assert.equal(next("enroll", "manage"), "verifying")
  assert.equal(next("active", "deploy"), undefined)
  for (const t of transitions) assert.equal(next(t.from, t.verb), t.to)
})

test("every state is reachable from enroll", () => {
  const reached = new Set<string>(["enroll"])
  for (let grew = true; grew;) {
    grew = false
    for (const t of transitions) {
      if (reached.has(t.from) && !reached.has(t.to)) {
        reached.add(t.to)
        grew = true
      }
    }
  }
  assert.deepEqual(provisionStates.filter((s) => !reached.has(s)), [])
})

test("unstable states name the stable state they head for, as Ironic's target_provision_state", () => {
  const heading = {
    active: ["deploying", "wait call-back", "adopting", "unrescuing"],
    available: ["cleaning", "clean wait", "deleting"],
    manageable: ["verifying", "inspecting", "inspect wait"],
    rescue: ["rescuing", "rescue wait"],
  }
  for (const [target, states] of Object.entries(heading)) for (const s of states) assert.equal(targetOf(s as never), target, s)
  for (const s of ["enroll", "manageable", "available", "active", "error", "rescue"] as const) {
    assert.equal(isStable(s), true, s)
    assert.equal(targetOf(s), null, s)
  }
})
