// A node's document as JSON text, kept beside the view it was made from: the service hands out one
// view object per node state (view-cache.ts), so clients polling a node that has not moved get the
// same text without the document being built and stringified again (ADR 0151).
import type { NodeView } from "../../application/node-service.ts"
import type { Reply } from "./context.ts"
import { nodeDocument, nodePicked } from "./node-json.ts"

const texts = new WeakMap<NodeView, Map<string, string>>()
/** Shapes kept per view (version, Host and `fields=` are client input): a bound on the memory. */
const shapesPerView = 4

/**
 * JSON.stringify of nodeDocument, or of nodePicked when `fields` is given (which may throw its 400),
 * for views of one request: the shape's key is made once, not per node of a page.
 */
export const nodeTexts = (base: string, version: number, fields: ReadonlyArray<string> | null) => {
  const key = fields === null ? `${version} ${base}` : `${version} ${base} ${fields.join(",")}`
  return (n: NodeView): string => {
    let shapes = texts.get(n)
    const kept = shapes?.get(key)
    if (kept !== undefined) return kept
    const text = JSON.stringify(fields === null ? nodeDocument(n, base, version) : nodePicked(n, base, version, fields))
    if (shapes === undefined) texts.set(n, shapes = new Map())
    if (shapes.size < shapesPerView) shapes.set(key, text)
    return text
  }
}

/** A 200 whose body is JSON text already. */
export const okText = (text: string): Reply => ({ status: 200, text, headers: { "Content-Type": "application/json" } })

/** The page served last per request (shape and query), as bytes; a bound on the memory (~35 KB each). */
const pages = new Map<string, { readonly docs: ReadonlyArray<string>; readonly next: string | undefined; readonly bytes: Buffer }>()
const pagesKept = 32

/**
 * A 200 with the page of `docs`: the same bytes as the last answer to `request` while its documents
 * are the same texts. Dashboards poll the same page; without it each poll joined and encoded 100
 * nodes' texts (~35 KB) again (ADR 0183).
 */
export const okPage = (request: string, docs: ReadonlyArray<string>, next: string | undefined): Reply => {
  let kept = pages.get(request)
  if (kept === undefined || kept.next !== next || kept.docs.length !== docs.length || kept.docs.some((d, i) => d !== docs[i])) {
    kept = { docs, next, bytes: Buffer.from(nodesPageText(docs, next)) }
    if (!pages.has(request) && pages.size >= pagesKept) pages.delete(pages.keys().next().value!)
    pages.set(request, kept)
  }
  return { status: 200, bytes: kept.bytes, headers: { "Content-Type": "application/json" } }
}

/** `{"nodes":[...],"next":...}` from the documents' texts: what JSON.stringify of the object gives. */
export const nodesPageText = (docs: ReadonlyArray<string>, next: string | undefined): string =>
  `{"nodes":[${docs.join(",")}]${next === undefined ? "" : `,"next":${JSON.stringify(next)}`}}`
