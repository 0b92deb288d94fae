// okPage (src/adapters/http/node-text.ts): a page whose documents are the same texts is answered with
// the bytes of the last answer; any change of a document, of the next link or of the request builds
// the page again.
import { test } from "node:test"
import assert from "node:assert/strict"
import { okPage } from "../../../src/adapters/http/node-text.ts"

const bytesOf = (request: string, docs: ReadonlyArray<string>, next?: string) => okPage(request, docs, next).bytes!

test("the same documents give the same bytes; a changed one gives the new page", () => {
  const docs = ['{"uuid":"a"}', '{"uuid":"b"}']
  const first = bytesOf("1.78 http://h /v1/nodes limit=2", docs)
  assert.deepEqual(JSON.parse(first.toString()), { nodes: [{ uuid: "a" }, { uuid: "b" }] })
  assert.equal(bytesOf("1.78 http://h /v1/nodes limit=2", [...docs]), first, "equal texts: the kept bytes")
  const changed = bytesOf("1.78 http://h /v1/nodes limit=2", ['{"uuid":"a"}', '{"uuid":"b","name":"n"}'])
  assert.deepEqual(JSON.parse(changed.toString()).nodes[1], { uuid: "b", name: "n" })
  const shorter = bytesOf("1.78 http://h /v1/nodes limit=2", ['{"uuid":"a"}'])
  assert.deepEqual(JSON.parse(shorter.toString()), { nodes: [{ uuid: "a" }] })
})

test("the next link and the request are part of what is kept", () => {
  const docs = ['{"uuid":"c"}']
  const withNext = bytesOf("r1", docs, "http://h/v1/nodes?marker=c")
  assert.equal(JSON.parse(withNext.toString()).next, "http://h/v1/nodes?marker=c")
  assert.equal(JSON.parse(bytesOf("r1", docs).toString()).next, undefined)
  const other = bytesOf("r2", ['{"uuid":"d"}'])
  assert.deepEqual(JSON.parse(bytesOf("r1", docs).toString()).nodes, [{ uuid: "c" }])
  assert.deepEqual(JSON.parse(other.toString()).nodes, [{ uuid: "d" }])
})

test("many requests keep a bounded number of pages, and each still answers right", () => {
  for (let i = 0; i < 100; i++) {
    assert.deepEqual(JSON.parse(bytesOf(`q${i}`, [`{"i":${i}}`]).toString()).nodes, [{ i }])
  }
  assert.deepEqual(JSON.parse(bytesOf("q0", ['{"i":0}']).toString()).nodes, [{ i: 0 }])
})
