// fetch() from inside a host's namespace (see netns-fetch.child.ts), for tests whose hosts the
// machine's own namespace cannot reach.
import { createInterface } from "node:readline"
import { join } from "node:path"
import { spawnOn, type Host } from "./netns-hosts.ts"

export interface Answer { readonly status: number; readonly text: string }
export type Send = (method: string, url: string, body?: string, headers?: Record<string, string>) => Promise<Answer>

export const fetchFrom = (host: Host): { readonly send: Send; readonly close: () => void } => {
  const child = spawnOn(host, [process.execPath, join(import.meta.dirname, "netns-fetch.child.ts")])
  const waiting = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>()
  let next = 0
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const a = JSON.parse(line) as { id: number; status?: number; text?: string; error?: string }
    const w = waiting.get(a.id)
    waiting.delete(a.id)
    if (a.error !== undefined) w?.reject(new Error(a.error))
    else w?.resolve({ status: a.status!, text: a.text! })
  })
  child.once("exit", () => { for (const w of waiting.values()) w.reject(new Error("the request relay exited")); waiting.clear() })
  const send: Send = (method, url, body, headers) => new Promise((resolve, reject) => {
    const id = next++
    waiting.set(id, { resolve, reject })
    child.stdin!.write(`${JSON.stringify({ id, method, url, body, headers })}\n`)
  })
  return { send, close: () => { child.stdin!.end(); child.kill("SIGKILL") } }
}
