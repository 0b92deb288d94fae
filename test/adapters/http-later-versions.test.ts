// The later API versions over real HTTP: deploy/undeploy verbs (1.73), ?fields= on drivers (1.77),
// boot_mode and secure_boot (1.75, 1.76), PATCH on allocations (1.57), failed allocations that
// survive a restart, network events (1.54), and trait adds sent together that all land.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { startService } from "../../src/cli/service.ts"
import { client, enrollAvailable, messageOf, settleNode } from "./http-harness.ts"

let dir: string
let db: string
let running: Awaited<ReturnType<typeof startService>>
let call: ReturnType<typeof client>

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ironledger-later-"))
  db = join(dir, "log.db")
  running = await startService({ db })
  call = client(running.url)
})
after(async () => {
  await running?.close()
  rmSync(dir, { recursive: true, force: true })
})

const at = (v: number) => ({ "X-OpenStack-Ironic-API-Version": `1.${v}` })

const available = (name: string, extra: Record<string, unknown> = {}) => enrollAvailable(call, name, extra)

describe("later API versions", () => {
  test("1.73: deploy and undeploy are active and deleted; below 1.73 they are a 406", async () => {
    await available("lv-verbs")
    const early = await call("PUT", "/v1/nodes/lv-verbs/states/provision", { target: "deploy" }, at(72))
    assert.equal(early.status, 406, early.text)
    assert.match(messageOf(early), /1\.73/)
    assert.equal((await call("PUT", "/v1/nodes/lv-verbs/states/provision", { target: "deploy" })).status, 202)
    await settleNode(call, "lv-verbs", "active")
    assert.equal((await call("PUT", "/v1/nodes/lv-verbs/states/provision", { target: "undeploy" })).status, 202)
    await settleNode(call, "lv-verbs", "available")
  })

  test("1.77: ?fields= on drivers picks fields (links stay); refused below 1.77, with detail, or for an unknown field", async () => {
    const list = await call("GET", "/v1/drivers?fields=name,default_power_interface")
    assert.equal(list.status, 200, list.text)
    for (const d of list.body.drivers) assert.deepEqual(Object.keys(d).sort(), ["default_power_interface", "links", "name"])
    const one = await call("GET", "/v1/drivers/fake-hardware?fields=enabled_power_interfaces")
    assert.deepEqual(Object.keys(one.body).sort(), ["enabled_power_interfaces", "links"])
    assert.equal((await call("GET", "/v1/drivers?fields=name", undefined, at(76))).status, 406)
    assert.equal((await call("GET", "/v1/drivers?fields=name&detail=true")).status, 400)
    const bogus = await call("GET", "/v1/drivers/fake-hardware?fields=bogus")
    assert.equal(bogus.status, 400)
    assert.match(messageOf(bogus), /bogus/)
  })

  test("1.75/1.76: boot_mode and secure_boot are shown from their versions and cannot be patched", async () => {
    await available("lv-boot")
    assert.equal("boot_mode" in (await call("GET", "/v1/nodes/lv-boot", undefined, at(74))).body, false)
    const n75 = (await call("GET", "/v1/nodes/lv-boot", undefined, at(75))).body
    assert.equal(n75.boot_mode, null)
    assert.equal("secure_boot" in n75, false)
    assert.equal((await call("GET", "/v1/nodes/lv-boot")).body.secure_boot, null)
    const p = await call("PATCH", "/v1/nodes/lv-boot", [{ op: "replace", path: "/boot_mode", value: "uefi" }])
    assert.equal(p.status, 400, p.text)
  })

  test("1.57: PATCH changes an allocation's name and extra, bound or failed; other paths and older versions are refused", async () => {
    await available("lv-alloc", { resource_class: "lv-class" })
    const bound = (await call("POST", "/v1/allocations", { resource_class: "lv-class", name: "lv-a" })).body
    assert.equal(bound.state, "active")
    const patched = await call("PATCH", `/v1/allocations/${bound.uuid}`, [
      { op: "replace", path: "/name", value: "lv-renamed" }, { op: "add", path: "/extra/owner_note", value: "x" },
    ])
    assert.equal(patched.status, 200, patched.text)
    assert.equal(patched.body.name, "lv-renamed")
    assert.deepEqual(patched.body.extra, { owner_note: "x" })
    assert.equal((await call("GET", "/v1/allocations/lv-renamed")).body.uuid, bound.uuid)
    assert.equal((await call("PATCH", `/v1/allocations/${bound.uuid}`, [{ op: "replace", path: "/resource_class", value: "y" }])).status, 400)
    assert.equal((await call("PATCH", `/v1/allocations/${bound.uuid}`, [{ op: "add", path: "/extra/__proto__", value: 1 }])).status, 400)
    assert.equal((await call("PATCH", `/v1/allocations/${bound.uuid}`, [{ op: "replace", path: "/name", value: "lv-x" }], at(56))).status, 405)
    const failed = (await call("POST", "/v1/allocations", { resource_class: "no-such-class", name: "lv-failed" })).body
    assert.equal(failed.state, "error")
    const renamed = await call("PATCH", "/v1/allocations/lv-failed", [{ op: "replace", path: "/extra", value: { why: "kept" } }])
    assert.equal(renamed.status, 200, renamed.text)
    assert.deepEqual(renamed.body.extra, { why: "kept" })
    const taken = await call("PATCH", "/v1/allocations/lv-failed", [{ op: "replace", path: "/name", value: "lv-renamed" }])
    assert.equal(taken.status, 409, taken.text)
  })

  test("a failed allocation survives a restart of the service (it is in the log), and its delete too", async () => {
    const kept = (await call("POST", "/v1/allocations", { resource_class: "nothing-here", name: "lv-kept" })).body
    const gone = (await call("POST", "/v1/allocations", { resource_class: "nothing-here", name: "lv-gone" })).body
    assert.equal((await call("DELETE", `/v1/allocations/${gone.uuid}`)).status, 204)
    await running.close()
    running = await startService({ db })
    call = client(running.url)
    const again = await call("GET", `/v1/allocations/${kept.uuid}`)
    assert.equal(again.status, 200, again.text)
    assert.equal(again.body.state, "error")
    assert.equal(again.body.last_error, kept.last_error)
    assert.equal((await call("GET", "/v1/allocations/lv-gone")).status, 404)
    const errors = (await call("GET", "/v1/allocations?state=error")).body.allocations.map((a: { name: string }) => a.name)
    assert.ok(errors.includes("lv-kept") && !errors.includes("lv-gone"), JSON.stringify(errors))
  })

  test("1.54: network events are validated as Ironic's schema has them and recorded on the node whose port has the MAC", async () => {
    const uuid = await available("lv-events")
    assert.equal((await call("POST", "/v1/ports", { address: "52:54:00:aa:bb:01", node_uuid: uuid })).status, 201)
    const event = {
      event: "network.bind_port", port_id: "11111111-2222-4333-8444-555555555555", mac_address: "52:54:00:AA:BB:01",
      status: "ACTIVE", device_id: uuid, "binding:host_id": uuid, "binding:vnic_type": "baremetal",
    }
    assert.equal((await call("POST", "/v1/events", { events: [event] }, at(53))).status, 404)
    for (const bad of [
      {}, { events: [] }, { events: [{ ...event, event: "network.explode" }] }, { events: [{ ...event, port_id: "nope" }] },
      { events: [{ ...event, mac_address: "zz" }] }, { events: [{ ...event, extra: 1 }] }, { events: [{ event: "network.bind_port" }] },
    ]) {
      const r = await call("POST", "/v1/events", bad)
      assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.text}`)
    }
    const ok = await call("POST", "/v1/events", { events: [event, { ...event, event: "network.unbind_port", mac_address: "52:54:00:00:00:99", device_id: null }] })
    assert.equal(ok.status, 204, ok.text)
    const history = (await call("GET", `/v1/nodes/${uuid}/history`)).body.history as Array<{ event: string }>
    assert.ok(history.some((h) => /network\.bind_port for Neutron port 11111111/.test(h.event)), JSON.stringify(history.map((h) => h.event)))
  })

  test("trait adds sent together all land, whatever their order (the node's stream decides each one)", async () => {
    await available("lv-traits")
    await fc.assert(fc.asyncProperty(
      fc.uniqueArray(fc.stringMatching(/^CUSTOM_[A-Z0-9]{1,6}$/), { minLength: 2, maxLength: 12 }),
      async (traits) => {
        assert.equal((await call("DELETE", "/v1/nodes/lv-traits/traits")).status, 204)
        const answers = await Promise.all(traits.map((t) => call("PUT", `/v1/nodes/lv-traits/traits/${t}`)))
        for (const a of answers) assert.equal(a.status, 204, a.text)
        const now = (await call("GET", "/v1/nodes/lv-traits/traits")).body.traits
        assert.deepEqual(now, [...traits].sort())
        const removed = await Promise.all(traits.slice(0, 2).map((t) => call("DELETE", `/v1/nodes/lv-traits/traits/${t}`)))
        for (const a of removed) assert.equal(a.status, 204, a.text)
        assert.deepEqual((await call("GET", "/v1/nodes/lv-traits/traits")).body.traits, [...traits].sort().filter((t) => !traits.slice(0, 2).includes(t)))
        assert.equal((await call("DELETE", `/v1/nodes/lv-traits/traits/${traits[0]}`)).status, 404)
      },
    ), { numRuns: 8 })
  })

  test("1.55: deploy templates: CRUD validated as Ironic's schema, names unique, 404 below 1.55", async () => {
    const step = { interface: "bios", step: "apply_configuration", args: { settings: [{ name: "ProcTurboMode", value: "Disabled" }] }, priority: 150 }
    assert.equal((await call("GET", "/v1/deploy_templates", undefined, at(54))).status, 404)
    for (const bad of [
      { name: "lower_case", steps: [step] }, { name: "CUSTOM_X", steps: [] }, { name: "CUSTOM_X", steps: [{ ...step, interface: "bogus" }] },
      { name: "CUSTOM_X", steps: [{ ...step, priority: -1 }] }, { name: "CUSTOM_X", steps: [step, step] }, { name: "CUSTOM_X", steps: [step], colour: "red" },
      { name: "CUSTOM_X", steps: [{ interface: "bios", step: "apply_configuration", priority: 1 }] },
    ]) {
      const r = await call("POST", "/v1/deploy_templates", bad)
      assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.text}`)
    }
    const made = await call("POST", "/v1/deploy_templates", { name: "CUSTOM_LV_TURBO_OFF", steps: [step], extra: { team: "a" } })
    assert.equal(made.status, 201, made.text)
    assert.equal((await call("POST", "/v1/deploy_templates", { name: "CUSTOM_LV_TURBO_OFF", steps: [step] })).status, 409)
    const listed = await call("GET", "/v1/deploy_templates")
    assert.ok(listed.body.deploy_templates.some((x: Record<string, unknown>) => x["name"] === "CUSTOM_LV_TURBO_OFF" && !("steps" in x)))
    const detailed = await call("GET", "/v1/deploy_templates?detail=true")
    assert.ok(detailed.body.deploy_templates.some((x: Record<string, unknown>) => Array.isArray(x["steps"])))
    assert.equal((await call("GET", "/v1/deploy_templates?bogus=1")).status, 400)
    const byName = await call("GET", "/v1/deploy_templates/CUSTOM_LV_TURBO_OFF?fields=steps")
    assert.deepEqual(Object.keys(byName.body).sort(), ["links", "steps"])
    const patched = await call("PATCH", `/v1/deploy_templates/${made.body.uuid}`, [
      { op: "replace", path: "/steps/0/priority", value: 120 }, { op: "add", path: "/extra/note", value: "n" },
    ])
    assert.equal(patched.status, 200, patched.text)
    assert.equal(patched.body.steps[0].priority, 120)
    assert.deepEqual(patched.body.extra, { team: "a", note: "n" })
    assert.equal((await call("PATCH", `/v1/deploy_templates/${made.body.uuid}`, [{ op: "replace", path: "/uuid", value: "x" }])).status, 400)
    const spare = await call("POST", "/v1/deploy_templates", { name: "CUSTOM_LV_SPARE", steps: [step] })
    assert.equal((await call("DELETE", `/v1/deploy_templates/${spare.body.uuid}`)).status, 204)
    assert.equal((await call("GET", "/v1/deploy_templates/CUSTOM_LV_SPARE")).status, 404)
  })

  test("1.69: a node whose instance traits name a template runs its steps as deploy steps; unknown steps are a 400 naming them", async () => {
    await call("POST", "/v1/deploy_templates", { name: "CUSTOM_LV_RESET", steps: [{ interface: "bios", step: "factory_reset", args: {}, priority: 200 }] })
    const uuid = await available("lv-templated")
    assert.equal((await call("PUT", "/v1/nodes/lv-templated/traits/CUSTOM_LV_RESET")).status, 204)
    const setTraits = await call("PATCH", "/v1/nodes/lv-templated", [{ op: "add", path: "/instance_info/traits", value: ["CUSTOM_LV_RESET"] }])
    assert.equal(setTraits.status, 200, setTraits.text)
    const provision = (body: Record<string, unknown>, v = 78) => call("PUT", "/v1/nodes/lv-templated/states/provision", body, at(v))
    const unknown = await provision({ target: "active", deploy_steps: [{ interface: "raid", step: "create_configuration", args: {}, priority: 90 }, { interface: "bios", step: "make_faster", args: {}, priority: 80 }] })
    assert.equal(unknown.status, 400, unknown.text)
    assert.match(messageOf(unknown), /raid\.create_configuration, bios\.make_faster are not offered/)
    assert.equal((await provision({ target: "active", deploy_steps: [] }, 68)).status, 406)
    assert.equal((await provision({ target: "manage", deploy_steps: [] })).status, 400)
    const user = { interface: "bios", step: "apply_configuration", args: { settings: [{ name: "BootMode", value: "Uefi" }] }, priority: 100 }
    assert.equal((await provision({ target: "active", deploy_steps: [user] })).status, 202)
    await settleNode(call, "lv-templated", "active")
    const history = (await call("GET", `/v1/nodes/${uuid}/history?limit=200`)).body.history as Array<Record<string, unknown>>
    const steps = history.filter((h) => h["type"] === "CleanStepRequested").map((h) => String(h["event"]))
    assert.equal(steps.length, 2, steps.join(" | "))
    assert.match(steps[0]!, /deploy step bios\.factory_reset/)
    assert.match(steps[1]!, /bios\.apply_configuration/)
    // Instance traits the node lacks are refused, as Ironic refuses them.
    assert.equal((await call("PUT", "/v1/nodes/lv-templated/states/provision", { target: "undeploy" })).status, 202)
    await settleNode(call, "lv-templated", "available")
    await call("PATCH", "/v1/nodes/lv-templated", [{ op: "add", path: "/instance_info/traits", value: ["CUSTOM_LV_ABSENT"] }])
    const absent = await provision({ target: "active" })
    assert.equal(absent.status, 400)
    assert.match(messageOf(absent), /CUSTOM_LV_ABSENT/)
  })

  test("1.70: disable_ramdisk takes a manual clean of out-of-band steps only; in-band steps are named in the 400", async () => {
    for (const [name, driver] of [["lv-oob", "fake-hardware"], ["lv-inband", "sim"]] as const) {
      assert.equal((await call("POST", "/v1/nodes", { driver, name })).status, 201)
      assert.equal((await call("PUT", `/v1/nodes/${name}/states/provision`, { target: "manage" })).status, 202)
      await settleNode(call, name, "manageable")
    }
    const clean = (node: string, body: Record<string, unknown>, v = 78) =>
      call("PUT", `/v1/nodes/${node}/states/provision`, { target: "clean", disable_ramdisk: true, ...body }, at(v))
    const bios = { clean_steps: [{ interface: "bios", step: "factory_reset" }] }
    assert.equal((await clean("lv-oob", bios, 69)).status, 406)
    assert.equal((await call("PUT", "/v1/nodes/lv-oob/states/provision", { target: "provide", disable_ramdisk: true })).status, 400)
    const inBand = await clean("lv-inband", { clean_steps: [{ interface: "deploy", step: "erase_devices_metadata" }] })
    assert.equal(inBand.status, 400, inBand.text)
    assert.match(messageOf(inBand), /deploy\.erase_devices_metadata run in the ramdisk/)
    assert.equal((await clean("lv-oob", bios)).status, 202)
    await settleNode(call, "lv-oob", "manageable")
    const history = (await call("GET", "/v1/nodes/lv-oob/history?limit=200")).body.history as Array<Record<string, unknown>>
    assert.ok(history.some((h) => h["type"] === "CleanStepDone"))
    assert.ok(!history.some((h) => h["type"] === "RamdiskKeyIssued"), "no ramdisk was booted")
  })

  test("1.63: indicators through the management interface: listed, read, set and recorded; none on ipmitool, said clearly", async () => {
    assert.equal((await call("POST", "/v1/nodes", { driver: "sim", name: "lv-led" })).status, 201)
    assert.equal((await call("GET", "/v1/nodes/lv-led/management/indicators", undefined, at(62))).status, 404)
    const listed = await call("GET", "/v1/nodes/lv-led/management/indicators")
    assert.equal(listed.status, 200, listed.text)
    assert.deepEqual(listed.body.indicators.map((i: Record<string, unknown>) => [i["name"], i["component"], i["readonly"], i["states"]]), [["led@system", "system", false, ["off", "on", "blinking"]]])
    assert.deepEqual((await call("GET", "/v1/nodes/lv-led/management/indicators/led@system")).body, { state: "off" })
    assert.equal((await call("PUT", "/v1/nodes/lv-led/management/indicators/led@system", { state: "blinking" })).status, 204)
    assert.deepEqual((await call("GET", "/v1/nodes/lv-led/management/indicators/led@system")).body, { state: "blinking" })
    for (const [path, body] of [["led@system", { state: "purple" }], ["led@system", { state: "on", extra: 1 }], ["led", { state: "on" }], ["led@moon", { state: "on" }]] as const) {
      const r = await call("PUT", `/v1/nodes/lv-led/management/indicators/${path}`, body)
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}: ${r.text}`)
    }
    const history = (await call("GET", "/v1/nodes/lv-led/history")).body.history as Array<{ event: string }>
    assert.ok(history.some((h) => h.event === "indicator led@system set blinking"), JSON.stringify(history.map((h) => h.event)))
    const ipmi = await call("POST", "/v1/nodes", { driver: "ipmi", name: "lv-ipmi-led", driver_info: { ipmi_address: "192.0.2.10", ipmi_username: "u", ipmi_password: "p" } })
    assert.equal(ipmi.status, 201, ipmi.text)
    const none = await call("GET", "/v1/nodes/lv-ipmi-led/management/indicators")
    assert.equal(none.status, 400, none.text)
    assert.match(messageOf(none), /management interface ipmitool of node lv-ipmi-led does not support indicators/)
  })
})
