// The node view kept per node state (ADR 0151): built once per state and progress, rebuilt when
// either moves, and never more than its bound of nodes kept.
import { test } from "node:test"
import assert from "node:assert/strict"
import { initialState, type NodeState, type Uuid } from "../../src/domain/index.ts"
import { cachedViews } from "../../src/application/node-service/view-cache.ts"

const node = (id: string): NodeState => initialState(id as Uuid)

test("a view is built once per node state and write progress", () => {
  let builds = 0
  const view = cachedViews((n: NodeState, p) => ({ id: n.nodeId, revision: n.revision, p, build: ++builds }), 8)
  const a0 = node("a")
  assert.equal(view(a0, null), view(a0, null))
  assert.equal(builds, 1)
  const a1: NodeState = { ...a0, revision: a0.revision + 1 }
  assert.equal(view(a1, null).build, 2, "a new state is a new view")
  const progress = { bytesWritten: 1, totalBytes: 2 }
  assert.equal(view(a1, progress).build, 3, "new progress is a new view")
  assert.equal(view(a1, progress).build, 3)
})

test("at most `size` nodes are kept, the oldest dropped first", () => {
  let builds = 0
  const view = cachedViews((n: NodeState) => ({ id: n.nodeId, build: ++builds }), 2)
  const [a, b, c] = [node("a"), node("b"), node("c")]
  view(a, null); view(b, null); view(c, null)
  assert.equal(builds, 3)
  view(c, null); view(b, null)
  assert.equal(builds, 3, "b and c are kept")
  view(a, null)
  assert.equal(builds, 4, "a was dropped")
})
