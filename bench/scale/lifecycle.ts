// One node's life as operators' tools drive it: enroll, then manage -> provide -> deploy, each a
// PUT followed by GET every `pollMs` until the state settles (target_provision_state null).
import type { Client } from "./http.ts"

export type Step = "enroll" | "manage" | "provide" | "deploy"

export interface StepTimes { readonly [step: string]: Array<number> }

interface NodeDoc { readonly uuid: string; readonly provision_state: string; readonly target_provision_state: string | null; readonly last_error: string | null }

const sleep = (ms: number) => new Promise((w) => setTimeout(w, ms))

export const enroll = async (client: Client, name: string): Promise<string> =>
  (await client.json<NodeDoc>("POST", "/v1/nodes", { driver: "fake-hardware", name }, 201)).uuid

/** Polls the node until it rests in `state`; a failed state is an error. */
const settled = async (client: Client, uuid: string, state: string, pollMs: number, timeoutMs = 600_000): Promise<void> => {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const n = await client.json<NodeDoc>("GET", `/v1/nodes/${uuid}`, undefined, 200)
    if (n.provision_state === state && n.target_provision_state === null) return
    if (n.provision_state.endsWith("failed")) throw new Error(`node ${uuid} ${n.provision_state} on the way to ${state}: ${n.last_error}`)
    if (performance.now() > deadline) throw new Error(`node ${uuid} still ${n.provision_state} -> ${n.target_provision_state} after ${timeoutMs} ms, waiting for ${state}`)
    await sleep(pollMs)
  }
}

const moves: ReadonlyArray<readonly [Step, string, string]> = [
  ["manage", "manage", "manageable"], ["provide", "provide", "available"], ["deploy", "active", "active"],
]

export const lifecycle = async (client: Client, name: string, pollMs: number, times?: Record<Step, Array<number>>): Promise<string> => {
  let t = performance.now()
  const uuid = await enroll(client, name)
  times?.enroll.push(performance.now() - t)
  for (const [step, target, state] of moves) {
    t = performance.now()
    await client.json("PUT", `/v1/nodes/${uuid}/states/provision`, { target }, 202)
    await settled(client, uuid, state, pollMs)
    times?.[step].push(performance.now() - t)
  }
  return uuid
}

export const manage = async (client: Client, uuid: string, pollMs: number): Promise<void> => {
  await client.json("PUT", `/v1/nodes/${uuid}/states/provision`, { target: "manage" }, 202)
  await settled(client, uuid, "manageable", pollMs)
}

/** Every node's UUID and provision state, read by page (a store kept from an earlier run, --keep). */
export const listNodes = async (client: Client): Promise<Array<{ uuid: string; provision_state: string }>> => {
  const all: Array<{ uuid: string; provision_state: string }> = []
  for (let path: string | undefined = "/v1/nodes?limit=1000&fields=uuid,provision_state"; path !== undefined;) {
    const page: { nodes: Array<{ uuid: string; provision_state: string }>; next?: string } = await client.json("GET", path, undefined, 200)
    all.push(...page.nodes)
    const next = page.next === undefined ? undefined : new URL(page.next, client.origin)
    path = next === undefined ? undefined : next.pathname + next.search
  }
  return all
}

export const emptyTimes = (): Record<Step, Array<number>> => ({ enroll: [], manage: [], provide: [], deploy: [] })
