// HTTP requests made from inside a network namespace for a test outside it: one JSON request per
// line on stdin ({id, method, url, body?, headers?}), one JSON answer per line on stdout
// ({id, status, text} or {id, error}). Ends with stdin.
import { createInterface } from "node:readline"

interface Request { readonly id: number; readonly method: string; readonly url: string; readonly body?: string; readonly headers?: Record<string, string> }

const answer = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`)

createInterface({ input: process.stdin }).on("line", (line) => {
  const req = JSON.parse(line) as Request
  fetch(req.url, {
    method: req.method, headers: req.headers ?? {}, signal: AbortSignal.timeout(15_000),
    ...(req.body === undefined ? {} : { body: req.body }),
  })
    .then(async (res) => answer({ id: req.id, status: res.status, text: await res.text() }))
    .catch((e: unknown) => answer({ id: req.id, error: e instanceof Error ? `${e.message} ${String((e as { cause?: unknown }).cause ?? "")}` : String(e) }))
})
