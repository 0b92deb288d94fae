// bench:lifecycle — fake-hardware nodes through enroll -> manage -> provide -> deploy (active) over
// the HTTP API, as operators' tools drive Ironic: `--clients` workers, each taking one node at a
// time and polling GET every `--poll` ms until its state settles. Optionally `--fleet F` idle nodes
// are enrolled first (the fleet the lifecycles run in) and `--readers R` clients read nodes back to
// back meanwhile. The server (`ironledger serve`, its own process) is measured from /proc: CPU per
// lifecycle (user + system, its threads and reaped children), RSS; the client's own CPU beside it.
//   node bench/lifecycle-http.ts [--nodes 1000] [--fleet 0] [--clients 64] [--poll 20] [--readers 0]
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { Agent, request } from "node:http"

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "1000" },
    fleet: { type: "string", default: "0" },
    clients: { type: "string", default: "64" },
    poll: { type: "string", default: "20" },
    readers: { type: "string", default: "0" },
  },
})
const nodes = Number(values.nodes)
const fleet = Math.max(Number(values.fleet), 0)
const clients = Number(values.clients)
const pollMs = Number(values.poll)
const readers = Number(values.readers)

const dir = mkdtempSync(join(tmpdir(), "ironledger-lifecycle-"))
const server = spawn(resolve(import.meta.dirname, "../bin/ironledger"), ["serve", "--db", join(dir, "log.db"), "--port", "0"],
  { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, IRONLEDGER_SIM: "0" } })
const stopServer = () => new Promise<void>((done) => {
  if (server.exitCode !== null) return done()
  server.once("exit", () => done())
  server.kill("SIGTERM")
  setTimeout(() => server.kill("SIGKILL"), 10_000).unref()
})
const url = await new Promise<URL>((found, fail) => {
  let seen = ""
  const timer = setTimeout(() => fail(new Error(`serve did not start: ${seen}`)), 60_000)
  server.stderr!.on("data", (d: Buffer) => {
    seen += d.toString()
    const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(seen)
    if (m) { clearTimeout(timer); found(new URL(m[1]!)) }
  })
  server.once("exit", (code) => { clearTimeout(timer); fail(new Error(`serve exited (${code}): ${seen}`)) })
}).catch(async (e) => { await stopServer(); rmSync(dir, { recursive: true, force: true }); throw e })
const agent = new Agent({ keepAlive: true, maxSockets: clients + readers + 8 })

const send = (method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> =>
  new Promise((done, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const req = request({
      host: url.hostname, port: url.port, method, path, agent,
      headers: { "X-OpenStack-Ironic-API-Version": "1.78", ...(payload === undefined ? {} : { "Content-Type": "application/json", "Content-Length": payload.length }) },
    }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(payload)
  })

/** CPU seconds of the server: its threads (utime + stime) and its reaped children (cutime + cstime). */
const serverCpu = () => {
  const fields = readFileSync(`/proc/${server.pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ")
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0)
  return ticks / 100
}
const serverRss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1] ?? 0) / 1024
const clientCpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6 }
const percentile = (xs: Array<number>, p: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const enroll = async (name: string) => {
  const r = await send("POST", "/v1/nodes", { driver: "fake-hardware", name })
  if (r.status !== 201) throw new Error(`enroll ${name}: ${r.status} ${r.body}`)
  return (JSON.parse(r.body) as { uuid: string }).uuid
}

const steps = ["manage", "provide", "deploy"] as const
const durations: Record<(typeof steps)[number], Array<number>> = { manage: [], provide: [], deploy: [] }
const settle = async (uuid: string, state: string) => {
  for (;;) {
    const r = await send("GET", `/v1/nodes/${uuid}`)
    const n = JSON.parse(r.body) as { provision_state: string; target_provision_state: string | null; last_error: string | null }
    if (n.provision_state === state && n.target_provision_state === null) return
    if (n.provision_state.endsWith("failed")) throw new Error(`${uuid}: ${n.provision_state}: ${n.last_error}`)
    await sleep(pollMs)
  }
}
const step = async (uuid: string, name: (typeof steps)[number], target: string, state: string) => {
  const t0 = performance.now()
  const r = await send("PUT", `/v1/nodes/${uuid}/states/provision`, { target })
  if (r.status !== 202) throw new Error(`${name} ${uuid}: ${r.status} ${r.body}`)
  await settle(uuid, state)
  durations[name].push(performance.now() - t0)
}

try {
  const idle: Array<string> = []
  for (let i = 0; i < fleet; i += 64) {
    idle.push(...await Promise.all(Array.from({ length: Math.min(64, fleet - i) }, (_, j) => enroll(`idle-${i + j}`))))
  }
  await sleep(500)
  const load = loadavg()[0]!
  const cpu0 = serverCpu()
  const client0 = clientCpu()
  let stopReading = false
  let reads = 0
  const readLatencies: Array<number> = []
  const readTargets = idle.length > 0 ? idle : undefined
  const reader = async () => {
    while (!stopReading) {
      const target = readTargets?.[reads % readTargets.length]
      const t0 = performance.now()
      await send("GET", target === undefined ? "/v1/nodes?limit=50" : `/v1/nodes/${target}`)
      readLatencies.push(performance.now() - t0)
      reads++
    }
  }
  const reading = Array.from({ length: readers }, reader)
  let next = 0
  const started = performance.now()
  const worker = async () => {
    while (next < nodes) {
      const i = next++
      const uuid = await enroll(`node-${i}`)
      await step(uuid, "manage", "manage", "manageable")
      await step(uuid, "provide", "provide", "available")
      await step(uuid, "deploy", "active", "active")
    }
  }
  await Promise.all(Array.from({ length: clients }, worker))
  const seconds = (performance.now() - started) / 1000
  stopReading = true
  await Promise.all(reading)
  const serverSeconds = serverCpu() - cpu0
  const clientSeconds = clientCpu() - client0
  console.log(`${nodes} fake-hardware lifecycles (enroll, manage, provide, deploy) over HTTP in a fleet of ${fleet + nodes}; ` +
    `${clients} clients polling every ${pollMs} ms${readers > 0 ? `, ${readers} readers` : ""}; load average ${load.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`)
  console.log(`  ${(nodes / seconds).toFixed(1)} nodes/s (${seconds.toFixed(1)} s)`)
  console.log(`  server CPU ${serverSeconds.toFixed(1)} s = ${(serverSeconds * 1000 / nodes).toFixed(2)} ms per lifecycle; client CPU ${clientSeconds.toFixed(1)} s; server RSS ${serverRss().toFixed(0)} MiB`)
  for (const s of steps) console.log(`  ${s.padEnd(8)} p50 ${percentile(durations[s], 50).toFixed(0).padStart(6)} ms   p99 ${percentile(durations[s], 99).toFixed(0).padStart(6)} ms`)
  if (readers > 0) console.log(`  reads: ${reads} (${(reads / seconds).toFixed(0)}/s), p50 ${percentile(readLatencies, 50).toFixed(1)} ms, p99 ${percentile(readLatencies, 99).toFixed(1)} ms`)
} finally {
  agent.destroy()
  await stopServer()
  rmSync(dir, { recursive: true, force: true })
}
