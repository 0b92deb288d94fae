// bench:api — requests/s and p50/p99 latency of the HTTP API under concurrent load, on loopback:
// GET /v1/nodes/{id} (a read from the projection) and POST /v1/nodes (an enroll: decide + append
// to the SQLite log). The server is `ironledger serve` in its own process, as deployed, so the load
// generator does not steal its event loop. Usage: node bench/api.ts [--seconds 5] [--concurrency 32] [--nodes 1000]
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Agent, request } from "node:http"

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : Number(process.argv[i + 1])
}
const seconds = arg("seconds", 5)
const concurrency = arg("concurrency", 32)
const preload = arg("nodes", 1000)

const dir = mkdtempSync(join(tmpdir(), "ironledger-bench-api-"))
const server = spawn(resolve(import.meta.dirname, "../bin/ironledger"), ["serve", "--db", join(dir, "log.db"), "--port", "0"],
  { stdio: ["ignore", "ignore", "pipe"] })
const stopServer = () => new Promise<void>((done) => {
  if (server.exitCode !== null) return done()
  server.once("exit", () => done())
  server.kill("SIGTERM")
  setTimeout(() => server.kill("SIGKILL"), 10_000).unref()
})
const url = await new Promise<URL>((found, fail) => {
  let seen = ""
  const timer = setTimeout(() => fail(new Error(`serve did not start: ${seen}`)), 30_000)
  server.stderr!.on("data", (d: Buffer) => {
    seen += d.toString()
    const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(seen)
    if (m) { clearTimeout(timer); found(new URL(m[1]!)) }
  })
  server.once("exit", (code) => { clearTimeout(timer); fail(new Error(`serve exited (${code}): ${seen}`)) })
}).catch(async (e) => { await stopServer(); rmSync(dir, { recursive: true, force: true }); throw e })
const agent = new Agent({ keepAlive: true, maxSockets: concurrency })

interface Result { readonly status: number; readonly body: string }

const send = (method: string, path: string, body?: unknown): Promise<Result> =>
  new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const req = request({
      host: url.hostname, port: url.port, method, path, agent,
      headers: {
        "X-OpenStack-Ironic-API-Version": "1.78",
        ...(payload === undefined ? {} : { "Content-Type": "application/json", "Content-Length": payload.length }),
      },
    }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(payload)
  })

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/** `concurrency` clients each sending `next()` back to back until the time is up. */
const load = async (name: string, next: (i: number) => Promise<Result>, expect: number) => {
  const latencies: Array<number> = []
  let errors = 0
  let counter = 0
  const deadline = performance.now() + seconds * 1000
  const started = performance.now()
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now()
      const r = await next(counter++)
      latencies.push(performance.now() - t0)
      if (r.status !== expect) errors++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const elapsed = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  console.log(
    `${name.padEnd(22)} ${String(latencies.length).padStart(7)} requests in ${elapsed.toFixed(1)} s = ` +
    `${(latencies.length / elapsed).toFixed(0).padStart(6)} req/s   p50 ${percentile(latencies, 50).toFixed(2)} ms   ` +
    `p99 ${percentile(latencies, 99).toFixed(2)} ms   errors ${errors}`,
  )
  return { count: latencies.length, errors }
}

try {
  console.log(`ironledger API bench: ${concurrency} concurrent clients, ${seconds} s per phase, SQLite log, server pid ${server.pid} on ${url.origin}`)
  const ids: Array<string> = []
  for (let i = 0; i < preload; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, preload - i) }, (_, j) =>
      send("POST", "/v1/nodes", { driver: "fake-hardware", name: `preload-${i + j}` })))
    for (const r of batch) ids.push((JSON.parse(r.body) as { uuid: string }).uuid)
  }
  console.log(`preloaded ${ids.length} nodes`)
  const reads = await load("GET /v1/nodes/{id}", (i) => send("GET", `/v1/nodes/${ids[i % ids.length]}`), 200)
  const creates = await load("POST /v1/nodes", (i) => send("POST", "/v1/nodes", { driver: "fake-hardware", name: `bench-${i}` }), 201)
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1]
  console.log(`server RSS ${rss === undefined ? "?" : (Number(rss) / 1024).toFixed(0)} MiB after ${ids.length + creates.count} nodes`)
  if (reads.errors + creates.errors > 0) process.exitCode = 1
} finally {
  agent.destroy()
  await stopServer()
  rmSync(dir, { recursive: true, force: true })
}
