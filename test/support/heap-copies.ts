// Counting copies of a text in this process's heap: strings compare by value, so only a heap
// snapshot tells one copy from many.
import { getHeapSnapshot } from "node:v8"

/**
 * How many string objects in the heap hold each of `texts` (flat strings and slices; a joined
 * text is left out, as the caller's own way of building the text it looks for).
 */
export const copiesInHeap = async (texts: ReadonlyArray<string>): Promise<Array<number>> => {
  const chunks: Array<Buffer> = []
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer)
  const snapshot = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
    snapshot: { meta: { node_fields: Array<string>; node_types: [Array<string>] } }
    nodes: Array<number>
    strings: Array<string>
  }
  const { node_fields: fields, node_types: [types] } = snapshot.snapshot.meta
  const type = fields.indexOf("type"), name = fields.indexOf("name")
  const wanted = texts.map((t) => snapshot.strings.indexOf(t))
  const counts = texts.map(() => 0)
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const kind = types[snapshot.nodes[i + type]!]
    if (kind !== "string" && kind !== "sliced string") continue
    const at = wanted.indexOf(snapshot.nodes[i + name]!)
    if (at >= 0) counts[at]!++
  }
  return counts
}
