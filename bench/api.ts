// bench:api — requests/s and p50/p99 latency of the HTTP API under concurrent load, on loopback:
// GET /v1/nodes/{id} (a read from the projection) and POST /v1/nodes (an enroll: decide + append
// to the SQLite log). The server is `ironledger serve` in its own process pinned to core 0 and this
// client to core 1, as in bench:scale (whose server start and client it uses), so the load generator
// does not steal its event loop. Usage: node bench/api.ts [--seconds 5] [--concurrency 32] [--nodes 1000]
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Client, percentile, type Reply } from "./scale/http.ts"
import { pinClientToCore } from "./scale/proc.ts"
import { startServer, warmCompileCache } from "./scale/server.ts"

pinClientToCore(1)

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : Number(process.argv[i + 1])
}
const seconds = arg("seconds", 5)
const concurrency = arg("concurrency", 32)
const preload = arg("nodes", 1000)

const dir = mkdtempSync(join(tmpdir(), "ironledger-bench-api-"))
await warmCompileCache()
const server = await startServer({ db: join(dir, "log.db"), core: 0, powerSyncSeconds: 60, cwd: dir })
  .catch((e) => { rmSync(dir, { recursive: true, force: true }); throw e })
const client = new Client(server.url, concurrency)

/** `concurrency` clients each sending `next()` back to back until the time is up. */
const load = async (name: string, next: (i: number) => Promise<Reply>, expect: number) => {
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
  console.log(
    `${name.padEnd(22)} ${String(latencies.length).padStart(7)} requests in ${elapsed.toFixed(1)} s = ` +
    `${(latencies.length / elapsed).toFixed(0).padStart(6)} req/s   p50 ${percentile(latencies, 50).toFixed(2)} ms   ` +
    `p99 ${percentile(latencies, 99).toFixed(2)} ms   errors ${errors}`,
  )
  return { count: latencies.length, errors }
}

try {
  console.log(`ironledger API bench: ${concurrency} concurrent clients, ${seconds} s per phase, SQLite log, server pid ${server.pid} on ${server.url.origin}`)
  const ids: Array<string> = []
  for (let i = 0; i < preload; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, preload - i) }, (_, j) =>
      client.json<{ uuid: string }>("POST", "/v1/nodes", { driver: "fake-hardware", name: `preload-${i + j}` }, 201)))
    for (const r of batch) ids.push(r.uuid)
  }
  console.log(`preloaded ${ids.length} nodes`)
  const reads = await load("GET /v1/nodes/{id}", (i) => client.send("GET", `/v1/nodes/${ids[i % ids.length]}`), 200)
  const creates = await load("POST /v1/nodes", (i) => client.send("POST", "/v1/nodes", { driver: "fake-hardware", name: `bench-${i}` }), 201)
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1]
  console.log(`server RSS ${rss === undefined ? "?" : (Number(rss) / 1024).toFixed(0)} MiB after ${ids.length + creates.count} nodes`)
  if (reads.errors + creates.errors > 0) process.exitCode = 1
} finally {
  client.close()
  await server.stop()
  rmSync(dir, { recursive: true, force: true })
}
