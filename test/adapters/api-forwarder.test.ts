// The host-side forwarder into the rack's namespace: HTTP over host loopback reaches a server that
// listens only on a Unix socket, and a dead socket ends the client's connection instead of hanging.
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, test } from "node:test"
import assert from "node:assert/strict"
import { startApiForwarder } from "../../src/adapters/vm/api-forwarder.ts"

const work = mkdtempSync(join(tmpdir(), "ironledger-forwarder-"))
after(() => rmSync(work, { recursive: true, force: true }))

test("requests on host loopback reach the API's Unix socket, and a missing socket fails fast", async () => {
  const socket = join(work, "api.sock")
  const api = createServer((req, res) => res.end(JSON.stringify({ method: req.method, url: req.url })))
  await new Promise<void>((r) => api.listen(socket, r))
  const forwarder = await startApiForwarder(socket, "127.0.0.1", 0)
  try {
    const answers = await Promise.all([1, 2, 3].map((i) => fetch(`http://127.0.0.1:${forwarder.port}/v1/nodes?n=${i}`).then((r) => r.json() as Promise<{ url: string }>)))
    assert.deepEqual(answers.map((a) => a.url), ["/v1/nodes?n=1", "/v1/nodes?n=2", "/v1/nodes?n=3"])
    await new Promise<void>((r) => api.close(() => r()))
    await assert.rejects(fetch(`http://127.0.0.1:${forwarder.port}/v1/nodes`, { signal: AbortSignal.timeout(5000) }), (e: Error) => e.name !== "TimeoutError")
  } finally {
    await forwarder.close()
  }
})
