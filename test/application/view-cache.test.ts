// The node view kept per node state (ADR 0151): built once per state and progress once kept, rebuilt
// when either moves, kept from the second read in one state on (ADR 0185), never more than its bound.
import { test } from "node:test"
import assert from "node:assert/strict"
import { initialState, type NodeState, type Uuid } from "../../src/domain/index.ts"
import { cachedViews } from "../../src/application/node-service/view-cache.ts"

const node = (id: string): NodeState => initialState(id as Uuid)

test("a node read once in a state is not kept; from its second read on, its view is built no more", () => {
  let builds = 0
  const view = cachedViews((n: NodeState, p) => ({ id: n.nodeId, revision: n.revision, p, build: ++builds }), 8)
  const a0 = node("a")
  assert.equal(view(a0, null).build, 1)
  assert.equal(view(a0, null).build, 2, "the first read's view was not kept")
  assert.equal(view(a0, null), view(a0, null))
  assert.equal(builds, 2)
  const a1: NodeState = { ...a0, revision: a0.revision + 1 }
  assert.equal(view(a1, null).build, 3, "a new state is a new view")
  assert.equal(view(a1, null).build, 3, "a kept node stays kept across its states")
  const progress = { bytesWritten: 1, totalBytes: 2 }
  assert.equal(view(a1, progress).build, 4, "new progress is a new view")
  assert.equal(view(a1, progress).build, 4)
})

test("a second read counts only in the same state", () => {
  let builds = 0
  const view = cachedViews((n: NodeState) => ({ id: n.nodeId, build: ++builds }), 8)
  const b0 = node("b")
  const b1: NodeState = { ...b0, revision: b0.revision + 1 }
  view(b0, null); view(b1, null); view(b1, null)
  assert.equal(builds, 3, "b1's first read was its first in that state")
  view(b1, null)
  assert.equal(builds, 3, "kept from b1's second read")
})

test("at most `size` nodes are kept, the oldest dropped first", () => {
  let builds = 0
  const view = cachedViews((n: NodeState) => ({ id: n.nodeId, build: ++builds }), 2)
  const [a, b, c] = [node("a"), node("b"), node("c")]
  for (const n of [a, a, b, b, c, c]) view(n, null)
  assert.equal(builds, 6)
  view(c, null); view(b, null)
  assert.equal(builds, 6, "b and c are kept")
  view(a, null); view(a, null)
  assert.equal(builds, 8, "a was dropped, and seen again before it is kept")
})

test("the nodes read once are remembered up to the same bound, the oldest forgotten first", () => {
  let builds = 0
  const view = cachedViews((n: NodeState) => ({ id: n.nodeId, build: ++builds }), 2)
  const [a, b, c] = [node("a"), node("b"), node("c")]
  view(a, null); view(b, null); view(c, null)
  view(a, null)
  assert.equal(builds, 4, "a was forgotten: this read is its first again")
  view(c, null); view(c, null)
  assert.equal(builds, 5, "c was remembered: kept on its second read")
})
