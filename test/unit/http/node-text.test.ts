// The node document's JSON text kept per view (ADR 0151): the same text JSON.stringify would give,
// one per shape (version, Host, fields=), and a page the same as stringifying the page object.
import { test } from "node:test"
import assert from "node:assert/strict"
import { initialState, type Uuid } from "../../../src/domain/index.ts"
import { toNodeView } from "../../../src/application/projections/node-view.ts"
import { nodeDocument, nodePicked } from "../../../src/adapters/http/node-json.ts"
import { nodesPageText, nodeTexts } from "../../../src/adapters/http/node-text.ts"

const view = toNodeView({ ...initialState("0b7e4c7e-9f4a-4d7c-8f7e-0c1d2e3f4a5b" as Uuid), name: "n1" } as never)

test("each shape of a view gets its own text, equal to JSON.stringify of the document", () => {
  const base = "http://127.0.0.1:6385"
  for (const [b, version, fields] of [[base, 78, null], [base, 1, null], ["http://other:1", 78, null], [base, 78, ["uuid", "name"]], [base, 78, ["name"]]] as const) {
    const expected = JSON.stringify(fields === null ? nodeDocument(view, b, version) : nodePicked(view, b, version, fields))
    assert.equal(nodeTexts(b, version, fields)(view), expected)
    assert.equal(nodeTexts(b, version, fields)(view), expected, "and again, from the cache")
  }
  assert.throws(() => nodeTexts(base, 78, ["no_such_field"])(view), /not valid/)
})

test("a page's text is JSON.stringify of the page object", () => {
  const docs = [nodeTexts("http://h", 78, ["uuid"])(view), nodeTexts("http://h", 78, ["name"])(view)]
  const objects = docs.map((d) => JSON.parse(d) as unknown)
  assert.equal(nodesPageText(docs, undefined), JSON.stringify({ nodes: objects }))
  assert.equal(nodesPageText(docs, "http://h/v1/nodes?limit=2&marker=x\"y"), JSON.stringify({ nodes: objects, next: "http://h/v1/nodes?limit=2&marker=x\"y" }))
  assert.equal(nodesPageText([], undefined), JSON.stringify({ nodes: [] }))
})
