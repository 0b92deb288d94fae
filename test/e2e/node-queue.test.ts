// No "node is busy" 409s (ADR 0050): power and provision requests sent to one busy node over the HTTP
// API are queued in the node's stream and carried out in the order they came, or refused with a 400
// that says why; abort clears the queue, maintenance acts at once, and the queue's bound is a 503.
// Simulated machines (sim) and fake-hardware; the whole file runs in a few seconds.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { maxQueuedActions } from "../../src/domain/index.ts"
import { client, messageOf, settleNode, startTestService, type Answer, type TestService } from "../adapters/http-harness.ts"

type Api = ReturnType<typeof client>
interface Entry { readonly type: string; readonly data: Record<string, unknown>; readonly correlation_id: string }

const stepPattern = /^[0-9a-f-]{36}:power$/
const powerTargets: Record<string, string> = {
  PowerOnRequested: "power on", PowerOffRequested: "power off", RebootRequested: "rebooting", SoftPowerOffRequested: "soft power off",
}

/** Every history entry of a node, following the pages. */
const historyOf = async (api: Api, url: string, node: string): Promise<ReadonlyArray<Entry>> => {
  const entries: Array<Entry> = []
  let path: string | null = `/v1/nodes/${node}/history/detail`
  while (path !== null) {
    const page: Answer = await api("GET", path)
    assert.equal(page.status, 200, page.text)
    entries.push(...page.body.history)
    path = typeof page.body.next === "string" ? page.body.next.slice(url.length) : null
  }
  return entries
}

/**
 * The users' actions as they were carried out, in the order of the log: provision requests, and power
 * requests on a user's step key (the conductor's own power steps are keyed by their operation's step).
 */
const carriedOut = (entries: ReadonlyArray<Entry>): Array<string> =>
  entries.flatMap((e): Array<string> => {
    switch (e.type) {
      case "ManageRequested": return ["manage"]
      case "ProvideRequested": return ["provide"]
      case "DeployRequested": return [e.data["rebuild"] === true ? "rebuild" : "active"]
      case "UndeployRequested": return ["deleted"]
      default:
        return e.type in powerTargets && stepPattern.test(String(e.data["step"])) ? [powerTargets[e.type]!] : []
    }
  })

const send = (api: Api, node: string, target: string): Promise<Answer> =>
  target in { "power on": 1, "power off": 1, rebooting: 1, "soft power off": 1 }
    ? api("PUT", `/v1/nodes/${node}/states/power`, { target })
    : api("PUT", `/v1/nodes/${node}/states/provision`, { target })

/** 202, or a 400 whose message names the state that makes the request impossible. */
const assertAnswered = (target: string, a: Answer) => {
  assert.ok(a.status === 202 || a.status === 400, `${target}: ${a.status} ${a.text}`)
  if (a.status === 400) assert.match(messageOf(a), /can not be performed on node .* while it is in state "[a-z -]+"/, target)
}

describe("requests to a busy node over HTTP", () => {
  let svc: TestService
  let api: Api
  before(async () => {
    svc = await startTestService()
    api = client(svc.url)
  })
  after(async () => { await svc?.close() })

  // Simulated machines: their ramdisks take a while to boot, so requests find the node busy.
  const enroll = async (name: string, mac: string) => {
    const r = await api("POST", "/v1/nodes", { driver: "sim", name, properties: { local_gb: 10 } })
    assert.equal(r.status, 201, r.text)
    assert.equal((await api("POST", "/v1/ports", { node_uuid: r.body.uuid, address: mac })).status, 201)
    return r.body.uuid as string
  }

  test("20 requests, each sent once the one before was answered: none is a 409, and they are carried out in the order sent", { timeout: 60_000 }, async (t) => {
    const node = await enroll("queue-in-order", "52:54:00:0e:00:01")
    const targets = [
      "manage", "power on", "provide", "power off", "active", "active", "rebooting", "rebuild", "power off", "power on",
      "deleted", "manage", "provide", "soft power off", "power on", "active", "deleted", "deleted", "manage", "power off",
    ]
    const accepted: Array<string> = []
    for (const target of targets) {
      const a = await send(api, node, target)
      assertAnswered(target, a)
      if (a.status === 202) accepted.push(target)
    }
    // A second deploy of a node that is (or will be) active and a second undeploy are impossible: 400s.
    assert.equal(targets.length - accepted.length, 2)
    // The node passes through a settled "manageable" while actions still wait in its queue: wait
    // until every accepted request was carried out, then for the last one to settle.
    let entries: ReadonlyArray<Entry> = []
    for (let i = 0; i < 1200; i++) {
      entries = await historyOf(api, svc.url, node)
      if (carriedOut(entries).length >= accepted.length) break
      await new Promise((r) => setTimeout(r, 25))
    }
    await settleNode(api, node, "manageable")
    for (let i = 0; i < 200 && (await api("GET", `/v1/nodes/${node}`)).body.power_state !== "power off"; i++) {
      await new Promise((r) => setTimeout(r, 25))
    }
    entries = await historyOf(api, svc.url, node)
    assert.deepEqual(carriedOut(entries), accepted)
    const queued = entries.filter((e) => e.type === "ActionQueued").length
    t.diagnostic(`${queued} of ${accepted.length} accepted requests were queued`)
    assert.ok(queued >= 5, "requests found the node busy and were queued")
    assert.deepEqual(entries.filter((e) => e.type === "QueuedActionDropped"), [])
    const shown = (await api("GET", `/v1/nodes/${node}`)).body
    assert.equal(shown.power_state, "power off")
    assert.equal(shown.last_error, null)
  })

  test("20 requests sent together: none is a 409 and none is lost", { timeout: 60_000 }, async (t) => {
    const node = await enroll("queue-together", "52:54:00:0e:00:02")
    assert.equal((await send(api, node, "manage")).status, 202)
    await settleNode(api, node, "manageable")
    const power = ["power on", "power off", "rebooting", "soft power off"]
    const targets = Array.from({ length: 20 }, (_, i) => (i % 5 === 4 ? (i % 10 === 4 ? "provide" : "manage") : power[i % 4]!))
    const answers = await Promise.all(targets.map((t) => send(api, node, t)))
    answers.forEach((a, i) => assertAnswered(targets[i]!, a))
    const accepted = targets.filter((_, i) => answers[i]!.status === 202)
    assert.ok(accepted.filter((t) => power.includes(t)).length === 16, "every power request is accepted")
    // Each accepted request is carried out once: wait until nothing is queued or running.
    let entries: ReadonlyArray<Entry> = []
    for (let i = 0; i < 400; i++) {
      entries = await historyOf(api, svc.url, node)
      const n = (await api("GET", `/v1/nodes/${node}`)).body
      if (carriedOut(entries).length >= 1 + accepted.length && n.target_provision_state === null && n.target_power_state === null) break
      await new Promise((r) => setTimeout(r, 25))
    }
    const done = carriedOut(entries).slice(1) // the manage sent first
    assert.deepEqual([...done].sort(), [...accepted].sort())
    assert.deepEqual(entries.filter((e) => e.type === "QueuedActionDropped"), [])
    const queued = entries.filter((e) => e.type === "ActionQueued").length
    t.diagnostic(`${queued} of ${accepted.length} accepted requests were queued`)
    assert.ok(queued >= 10, "most of them waited in the queue")
  })
})

describe("the queue's edges, with no conductor carrying anything out", () => {
  let svc: TestService
  let api: Api
  before(async () => {
    svc = await startTestService({ conductor: { drivesNodes: false } })
    api = client(svc.url)
  })
  after(async () => { await svc?.close() })

  test("beyond the bound a 503 with Retry-After; maintenance acts at once; abort clears the queue", async () => {
    const r = await api("POST", "/v1/nodes", { driver: "fake-hardware", name: "queue-bound" })
    assert.equal(r.status, 201, r.text)
    const node = r.body.uuid as string
    // The first is asked for at once (and never carried out here); the rest wait behind it.
    for (let i = 0; i <= maxQueuedActions; i++) {
      const a = await send(api, node, i % 2 === 0 ? "power on" : "power off")
      assert.equal(a.status, 202, `request ${i}: ${a.text}`)
    }
    const full = await send(api, node, "rebooting")
    assert.equal(full.status, 503, full.text)
    assert.equal(full.headers.get("retry-after"), "10")
    assert.match(messageOf(full), new RegExp(`already has ${maxQueuedActions} actions queued`))
    // An impossible request is still a 400 that names why, not a 503.
    const impossible = await send(api, node, "provide")
    assert.equal(impossible.status, 400, impossible.text)

    assert.equal((await api("PUT", `/v1/nodes/${node}/maintenance`, { reason: "cabling" })).status, 202)
    assert.equal((await api("GET", `/v1/nodes/${node}`)).body.maintenance, true)
    assert.equal((await api("DELETE", `/v1/nodes/${node}/maintenance`)).status, 202)

    const abort = await send(api, node, "abort")
    assert.equal(abort.status, 202, abort.text)
    const entries = await historyOf(api, svc.url, node)
    const dropped = entries.filter((e) => e.type === "QueuedActionDropped")
    assert.equal(dropped.length, maxQueuedActions)
    assert.ok(dropped.every((e) => e.data["reason"] === "aborted" || String(e.data["reason"]).endsWith(": aborted")))
    // With the queue empty, abort in enroll is refused as before.
    const again = await send(api, node, "abort")
    assert.equal(again.status, 400, again.text)
    assert.equal((await send(api, node, "power off")).status, 202, "the queue takes requests again")
  })
})
