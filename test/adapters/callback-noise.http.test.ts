// The flood, as anyone on the network could send it: 2,000 unauthenticated junk
// call-backs to pass_deploy_info on an active node add at most a handful of events (none: the node
// waits for no ramdisk). And the history API's filters: since, until, type, actor, noise=hide.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { simulatedHardware } from "../../src/cli/hardware.ts"
import { client, readEvents, startTestService, settleNode, type TestService } from "./http-harness.ts"

let svc: TestService
let call: ReturnType<typeof client>
before(async () => {
  svc = await startTestService({ hardware: simulatedHardware({ callbackDelayMs: 5 }) })
  call = client(svc.url)
})
after(async () => { await svc?.close() })

const settle = (name: string, state: string) => settleNode(call, name, state)

test("2,000 junk call-backs to an active node add at most a handful of events", { timeout: 120_000 }, async () => {
  const node = (await call("POST", "/v1/nodes", { driver: "sim", name: "flooded" })).body
  await call("POST", "/v1/ports", { address: "52:54:00:f1:00:01", node_uuid: node.uuid })
  for (const [target, state] of [["manage", "manageable"], ["provide", "available"], ["active", "active"]]) {
    await call("PUT", `/v1/nodes/flooded/states/provision`, { target })
    await settle("flooded", state!)
  }
  const stream = `node-${node.uuid}`
  const before = (await readEvents(svc.db)).filter((e) => e.streamId === stream).length
  const anonymous = client(svc.url, {})
  let sent = 0
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (sent < 2000) {
      sent++
      const r = await anonymous("POST", `/v1/nodes/${node.uuid}/vendor_passthru/pass_deploy_info`,
        { address: "203.0.113.9", key: `junk-${sent}`, iqn: "iqn.2026-01.org.example:junk" })
      // An active node waits for no ramdisk: it answers as an unknown node would.
      assert.equal(r.status, 404)
    }
  }))
  const afterFlood = (await readEvents(svc.db)).filter((e) => e.streamId === stream).length
  assert.ok(afterFlood - before <= 3, `${afterFlood - before} events added`)

  // History filters, through the API.
  const all = (await call("GET", `/v1/nodes/${node.uuid}/history?limit=1000`)).body.history as Array<Record<string, unknown>>
  const deployRequested = all.find((h) => h["type"] === "DeployRequested")!
  const only = (await call("GET", `/v1/nodes/${node.uuid}/history?type=DeployRequested,DeployDone`)).body.history as Array<Record<string, unknown>>
  assert.deepEqual(only.map((h) => h["type"]), ["DeployRequested", "DeployDone"])
  const since = (await call("GET", `/v1/nodes/${node.uuid}/history?since=${encodeURIComponent(String(deployRequested["created_at"]))}&actor=user:noauth`)).body.history as Array<Record<string, unknown>>
  assert.ok(since.length >= 1 && since.every((h) => h["actor"] === "user:noauth" && String(h["created_at"]) >= String(deployRequested["created_at"])))
  const until = (await call("GET", `/v1/nodes/${node.uuid}/history?until=${encodeURIComponent(String(all[0]!["created_at"]))}`)).body.history as Array<Record<string, unknown>>
  assert.ok(until.length >= 1 && until.length < all.length)
  // The CLI passes its filters on (asynchronously: the service answering runs in this process).
  const cli = await promisify(execFile)("bin/ironledger",
    ["history", "flooded", "--type", "DeployRequested", "--type", "DeployDone", "--hide-noise", "--json", "--url", svc.url], { encoding: "utf8" })
  assert.deepEqual((JSON.parse(cli.stdout) as Array<Record<string, unknown>>).map((h) => h["type"]), ["DeployRequested", "DeployDone"])
  assert.equal((await call("GET", `/v1/nodes/${node.uuid}/history?noise=loud`)).status, 400)
  assert.equal((await call("GET", `/v1/nodes/${node.uuid}/history?since=soon`)).status, 400)
})
