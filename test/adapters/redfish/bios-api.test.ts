// The API's read side of BIOS and firmware: a redfish node on the Redfish BMC emulator is managed;
// verify records what the BMC reports, and GET /v1/nodes/{id}/bios and /bios/{name} serve it.
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { memoryMachine, selfSignedCertificate, startRedfishEmulator, type RedfishEmulator } from "../../../src/adapters/sim/redfish/index.ts"
import { client, settleNode, startTestService, type TestService } from "../http-harness.ts"

describe("GET /v1/nodes/{id}/bios and /firmware for a redfish node", () => {
  let dir: string
  let emulator: RedfishEmulator
  let service: TestService
  let api: ReturnType<typeof client>
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "redfish-api-"))
    const tls = await selfSignedCertificate("127.0.0.1")
    writeFileSync(join(dir, "ca.pem"), tls.cert)
    emulator = await startRedfishEmulator({ machines: [memoryMachine("api-1", randomUUID())], username: "admin", password: "api-Pa55", tls })
    service = await startTestService()
    api = client(service.url)
    const created = await api("POST", "/v1/nodes", {
      name: "rf-api", driver: "redfish",
      driver_info: { redfish_address: emulator.url, redfish_username: "admin", redfish_password: "api-Pa55", redfish_verify_ca: join(dir, "ca.pem") },
    })
    assert.equal(created.status, 201, created.text)
    assert.equal(created.body.bios_interface, "redfish")
    assert.equal((await api("PUT", "/v1/nodes/rf-api/states/provision", { target: "manage" })).status, 202)
    await settleNode(api, "rf-api", "manageable")
  })
  after(async () => {
    await service?.close()
    await emulator?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test("verify recorded the BIOS settings the BMC reports; the list and one setting are served", async () => {
    const list = await api("GET", "/v1/nodes/rf-api/bios")
    assert.equal(list.status, 200, list.text)
    const byName = new Map((list.body.bios as Array<{ name: string; value: string }>).map((s) => [s.name, s.value]))
    assert.equal(byName.get("ProcTurboMode"), "Enabled")
    assert.equal(byName.size, Object.keys(emulator.systems.get("api-1")!.bios).length)
    const one = await api("GET", "/v1/nodes/rf-api/bios/ProcTurboMode")
    assert.equal(one.status, 200)
    assert.equal(one.body.ProcTurboMode.value, "Enabled")
    assert.match(one.body.ProcTurboMode.links[0].href, /\/v1\/nodes\/[0-9a-f-]+\/bios\/ProcTurboMode$/)
    assert.equal((await api("GET", "/v1/nodes/rf-api/bios/NoSuchSetting")).status, 404)
    assert.equal((await api("GET", "/v1/nodes/rf-api/bios", undefined, { "X-OpenStack-Ironic-API-Version": "1.39" })).status, 404)
  })

  test("1.74: the registry fields come from the BMC's AttributeRegistry; detail and fields pick them, below 1.74 neither is allowed", async () => {
    const detail = await api("GET", "/v1/nodes/rf-api/bios?detail=true")
    assert.equal(detail.status, 200, detail.text)
    const turbo = (detail.body.bios as Array<Record<string, unknown>>).find((s) => s["name"] === "ProcTurboMode")!
    assert.deepEqual({ ...turbo, links: undefined }, {
      name: "ProcTurboMode", value: "Enabled", attribute_type: "Enumeration", allowable_values: ["Enabled", "Disabled"],
      lower_bound: null, upper_bound: null, min_length: null, max_length: null, read_only: false, reset_required: true, unique: false, links: undefined,
    })
    const plain = await api("GET", "/v1/nodes/rf-api/bios")
    assert.deepEqual(Object.keys(plain.body.bios[0]).sort(), ["links", "name", "value"])
    const picked = await api("GET", "/v1/nodes/rf-api/bios?fields=name,allowable_values")
    assert.deepEqual(Object.keys(picked.body.bios[0]).sort(), ["allowable_values", "links", "name"])
    assert.equal((await api("GET", "/v1/nodes/rf-api/bios/ProcTurboMode")).body.ProcTurboMode.reset_required, true)
    assert.equal((await api("GET", "/v1/nodes/rf-api/bios?detail=true", undefined, { "X-OpenStack-Ironic-API-Version": "1.73" })).status, 406)
    assert.equal((await api("GET", "/v1/nodes/rf-api/bios?detail=true&fields=name")).status, 400)
    assert.equal((await api("GET", "/v1/nodes/rf-api/bios?fields=colour")).status, 400)
    const old = await api("GET", "/v1/nodes/rf-api/bios/ProcTurboMode", undefined, { "X-OpenStack-Ironic-API-Version": "1.73" })
    assert.equal("attribute_type" in old.body.ProcTurboMode, false)
  })

  test("firmware versions are recorded in the node's history; /firmware needs API 1.86", async () => {
    const history = await api("GET", "/v1/nodes/rf-api/history/detail")
    const cached = (history.body.history as Array<{ type: string; data: { components?: unknown } }>).find((h) => h.type === "FirmwareComponentsCached")
    assert.deepEqual(cached?.data.components, [{ component: "bios", version: "1.0.0" }, { component: "bmc", version: "1.0.0" }])
    assert.equal((await api("GET", "/v1/nodes/rf-api/firmware")).status, 404)
  })

  test("bios steps through manual cleaning: after each step's reboot GET /bios shows what the BMC applied", async () => {
    const turbo = async () => ((await api("GET", "/v1/nodes/rf-api/bios")).body.bios as Array<{ name: string; value: string }>).find((s) => s.name === "ProcTurboMode")?.value
    const clean = async (step: Record<string, unknown>) => {
      assert.equal((await api("PUT", "/v1/nodes/rf-api/states/provision", { target: "clean", clean_steps: [step] })).status, 202)
      assert.equal((await settleNode(api, "rf-api", "manageable")).last_error, null)
    }
    await clean({ interface: "bios", step: "apply_configuration", args: { settings: [{ name: "ProcTurboMode", value: "Disabled" }] } })
    assert.equal(await turbo(), "Disabled")
    await clean({ interface: "bios", step: "factory_reset" })
    assert.equal(await turbo(), "Enabled")
    assert.equal((await api("GET", "/v1/nodes/rf-api/firmware_components")).body.firmware.length, 2)
  })

  test("a node whose BMC has no BIOS interface (fake-hardware with no-bios) has an empty list", async () => {
    assert.equal((await api("POST", "/v1/nodes", { name: "fake-bios", driver: "fake-hardware", bios_interface: "no-bios" })).status, 201)
    const list = await api("GET", "/v1/nodes/fake-bios/bios")
    assert.equal(list.status, 200)
    assert.deepEqual(list.body.bios, [])
  })
})
