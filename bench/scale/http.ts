// A keep-alive HTTP client speaking the API as operators' tools do (microversion header, JSON).
import { Agent, request } from "node:http"

export interface Reply { readonly status: number; readonly body: string }

export class Client {
  private readonly agent: Agent
  readonly origin: URL
  constructor(origin: URL, sockets: number) {
    this.origin = origin
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets })
  }

  /**
   * A request the server closed an idle keep-alive socket under (ECONNRESET on a reused socket)
   * never reached it: sent again, as Node's documentation advises.
   */
  async send(method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<Reply> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(method, path, body, timeoutMs)
      } catch (e) {
        if (attempt >= 3 || (e as { retry?: boolean }).retry !== true) throw e
      }
    }
  }

  /** Requests sent (retries included): the load a figure per lifecycle stands for. */
  requests = 0

  private once(method: string, path: string, body: unknown, timeoutMs: number): Promise<Reply> {
    this.requests++
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
      const req = request({
        host: this.origin.hostname, port: this.origin.port, method, path, agent: this.agent, timeout: timeoutMs,
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
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)))
      req.on("error", (e: Error & { code?: string }) =>
        reject(Object.assign(e, { retry: e.code === "ECONNRESET" && req.reusedSocket })))
      req.end(payload)
    })
  }

  /** The body as JSON when the status is the expected one, else an error naming the request. */
  async json<A>(method: string, path: string, body: unknown, expect: number): Promise<A> {
    const r = await this.send(method, path, body)
    if (r.status !== expect) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`)
    return (r.body === "" ? undefined : JSON.parse(r.body)) as A
  }

  close(): void { this.agent.destroy() }
}

export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** Runs `task(i)` for i in [0, count) on `workers` concurrent workers. */
export const pool = async (count: number, workers: number, task: (i: number) => Promise<void>): Promise<void> => {
  let next = 0
  const worker = async () => { while (next < count) await task(next++) }
  await Promise.all(Array.from({ length: Math.min(workers, count) }, worker))
}
