// Ironic's RAID API over HTTP (1.12): PUT /v1/nodes/{id}/states/raid sets target_raid_config, shown
// on the node with raid_config from 1.12 on; a bad configuration is 400 with what is wrong; a node
// whose RAID interface builds none is refused; older versions do not have the resource.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { client, messageOf, startTestService, type TestService } from "./http-harness.ts"

let svc: TestService
let call: ReturnType<typeof client>
before(async () => { svc = await startTestService(); call = client(svc.url) })
after(async () => { await svc?.close() })

const target = { logical_disks: [{ size_gb: "MAX", raid_level: "1", controller: "software", is_root_volume: true }] }

test("target_raid_config: set, shown, checked, refused without a RAID interface, absent before 1.12", async () => {
  assert.equal((await call("POST", "/v1/nodes", { driver: "sim", name: "raid-http", raid_interface: "agent" })).status, 201)
  assert.equal((await call("POST", "/v1/nodes", { driver: "sim", name: "no-raid-http" })).status, 201)
  const put = await call("PUT", "/v1/nodes/raid-http/states/raid", target)
  assert.equal(put.status, 204, put.text)
  const node = await call("GET", "/v1/nodes/raid-http")
  assert.deepEqual(node.body.target_raid_config, target)
  assert.deepEqual(node.body.raid_config, {})
  assert.deepEqual((await call("GET", "/v1/nodes/raid-http/states")).body.target_raid_config, target)

  for (const [bad, why] of [
    [{ logical_disks: [] }, /non-empty list/],
    [{ logical_disks: [{ size_gb: 0, raid_level: "1" }] }, /size_gb must be a positive integer or "MAX"/],
    [{ logical_disks: [{ size_gb: "MAX", raid_level: "7" }] }, /raid_level must be one of/],
    [{ logical_disks: [{ size_gb: "MAX", raid_level: "1", colour: "red" }] }, /unknown properties colour/],
    [{ disks: [] }, /takes only logical_disks/],
  ] as const) {
    const r = await call("PUT", "/v1/nodes/raid-http/states/raid", bad)
    assert.equal(r.status, 400, JSON.stringify(bad))
    assert.match(messageOf(r), why)
  }
  const refused = await call("PUT", "/v1/nodes/no-raid-http/states/raid", target)
  assert.equal(refused.status, 400)
  assert.match(messageOf(refused), /RAID interface "no-raid" builds no RAID/)
  // Clearing is always allowed.
  assert.equal((await call("PUT", "/v1/nodes/no-raid-http/states/raid", {})).status, 204)

  const old = client(svc.url, { "X-OpenStack-Ironic-API-Version": "1.11" })
  assert.equal((await old("PUT", "/v1/nodes/raid-http/states/raid", target)).status, 404)
  assert.equal((await old("GET", "/v1/nodes/raid-http")).body.target_raid_config, undefined)
  const props = await call("GET", "/v1/drivers/sim/raid/logical_disk_properties")
  assert.equal(props.status, 200)
  assert.match(props.body.raid_level, /0, 1, 2, 5, 6/)
})
