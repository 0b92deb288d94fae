// Inspection rules over HTTP (ADR 0142): /v1/inspection_rules CRUD checked as Ironic checks it, and
// the rules applied when a simulated machine's ramdisk posts its inventory: what matched and what
// it changed is in the node's history, a rule's `fail` fails the inspection, sensitive rules hide
// their conditions and actions. A discovered machine's post goes through the same rules, with
// plugin_data[auto_discovered] true (ADR 0143).
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { simulatedHardware } from "../../src/cli/hardware.ts"
import { defaultSimMachine, simInventory, type SimMachineSpec } from "../../src/adapters/sim/inventory.ts"
import { client, errorOf, settleNode, startTestService, type TestService } from "./http-harness.ts"

const GiB = 1024 ** 3
const machine = (manufacturer: string, mac: string): SimMachineSpec => ({
  cpus: 8, arch: "x86_64", memoryMb: 16384,
  disks: [{ name: "sda", bytes: 20 * GiB, model: "DISK", serial: "S-1", wwn: null, rotational: false }],
  nics: [{ name: "eth0", mac, link: true }],
  vendor: { manufacturer, product: "R640", serial: "SN-1" }, bootMode: "bios",
})
const machines = new Map<string, SimMachineSpec>()

describe("inspection rules", () => {
  let svc: TestService
  let call: ReturnType<typeof client>
  before(async () => {
    svc = await startTestService({ hardware: simulatedHardware({ callbackDelayMs: 20, machineOf: (id) => machines.get(id) }), notary: false })
    call = client(svc.url)
  })
  after(async () => { await svc?.close() })

  const inspect = async (name: string, manufacturer: string, mac: string) => {
    const node = (await call("POST", "/v1/nodes", { driver: "sim", name })).body
    machines.set(node.uuid, machine(manufacturer, mac))
    assert.equal((await call("POST", "/v1/ports", { node_uuid: node.uuid, address: mac })).status, 201)
    assert.equal((await call("PUT", `/v1/nodes/${name}/states/provision`, { target: "manage" })).status, 202)
    await settleNode(call, name, "manageable")
    assert.equal((await call("PUT", `/v1/nodes/${name}/states/provision`, { target: "inspect" })).status, 202)
    return node.uuid as string
  }

  test("CRUD: created with defaults, listed with Ironic's default fields, patched, deleted; bad rules are 400 naming each problem", async () => {
    const created = await call("POST", "/v1/inspection_rules", {
      description: "big memory", priority: 20,
      conditions: [{ op: "gt", args: { values: ["{inventory[memory][physical_mb]}", 8192] } }],
      actions: [{ op: "add-trait", args: { name: "CUSTOM_BIG_MEMORY" } }],
    })
    assert.equal(created.status, 201, created.text)
    const uuid = created.body.uuid as string
    assert.equal(created.headers.get("location"), `${svc.url}/v1/inspection_rules/${uuid}`)
    assert.deepEqual({ ...created.body, uuid: undefined, created_at: undefined, links: undefined }, {
      uuid: undefined, created_at: undefined, links: undefined, description: "big memory", priority: 20, sensitive: false, phase: "main",
      conditions: [{ op: "gt", args: { values: ["{inventory[memory][physical_mb]}", 8192] } }],
      actions: [{ op: "add-trait", args: { name: "CUSTOM_BIG_MEMORY" }, loop: [] }], updated_at: null,
    })
    const listed = (await call("GET", "/v1/inspection_rules")).body.inspection_rules
    assert.deepEqual(Object.keys(listed[0]).sort(), ["description", "links", "phase", "priority", "uuid"])
    assert.equal((await call("GET", "/v1/inspection_rules?detail=true")).body.inspection_rules[0].conditions.length, 1)

    const patched = await call("PATCH", `/v1/inspection_rules/${uuid}`, [{ op: "replace", path: "/priority", value: 30 }, { op: "add", path: "/actions/-", value: { op: "log", args: { msg: "big" } } }])
    assert.equal(patched.status, 200, patched.text)
    assert.equal(patched.body.priority, 30)
    assert.equal(patched.body.actions.length, 2)
    assert.equal(patched.body.updated_at !== null, true)

    const bad = await call("POST", "/v1/inspection_rules", {
      conditions: [{ op: "in-net", args: { address: "x", subnet: "y" } }],
      actions: [{ op: "set-attribute", args: { path: "/name", value: "x" } }],
    })
    assert.equal(bad.status, 400)
    assert.match(String(errorOf(bad)["faultstring"]), /Multiple validation errors occurred: conditions\[0\]: unsupported operator "in-net".*actions\[0\] \(set-attribute\): path "\/name" must start with properties, driver_info, extra/)
    for (const [body, message] of [
      [{ conditions: [] }, /actions/],
      [{ actions: [{ op: "fail", args: ["m"] }], priority: 10000 }, /Priority must be between 0 and 9999/],
      [{ actions: [{ op: "fail", args: ["m"] }], phase: "early" }, /Invalid phase: "early". Valid phases are: main/],
      [{ actions: [{ op: "fail", args: ["m"], loop: [1, 2] }] }, /loop is not supported/],
      [{ actions: [], surprise: 1 }, /Additional properties are not allowed \('surprise' was unexpected\)/],
    ] as const) {
      const r = await call("POST", "/v1/inspection_rules", body)
      assert.equal(r.status, 400, JSON.stringify(body))
      assert.match(String(errorOf(r)["faultstring"]), message)
    }
    assert.equal((await call("DELETE", `/v1/inspection_rules/${uuid}`)).status, 204)
    assert.equal((await call("GET", `/v1/inspection_rules/${uuid}`)).status, 404)
  })

  test("an inspection applies the matching rules by priority; the history says which matched and what they did", async () => {
    const rules = [
      { description: "dell bmc", priority: 50, conditions: [{ op: "contains", args: { value: "{inventory[system_vendor][manufacturer]}", regex: "(?i)dell" } }],
        actions: [
          { op: "set-attribute", args: { path: "/driver_info/ipmi_address", value: "10.9.0.{inventory[cpu][count]}" } },
          { op: "set-attribute", args: { path: "/properties/cpus", value: 4 } },
          { op: "set-capability", args: { name: "vendor", value: "dell" } },
          { op: "add-trait", args: { name: "CUSTOM_DELL" } },
          { op: "set-plugin-data", args: { path: "rack", value: "r7" } },
        ] },
      { description: "everyone", priority: 10, conditions: [], actions: [{ op: "set-attribute", args: { path: "/extra/inspected_by_rules", value: true } }] },
      { description: "never", priority: 90, conditions: [{ op: "!eq", args: { values: ["{inventory[cpu][count]}", 8] } }], actions: [{ op: "fail", args: { msg: "no" } }] },
    ]
    const made: Array<string> = []
    for (const r of rules) made.push((await call("POST", "/v1/inspection_rules", r)).body.uuid)
    try {
      await inspect("ruled-dell", "Dell Inc.", "52:54:00:e1:00:01")
      const n = await settleNode(call, "ruled-dell", "manageable")
      assert.equal(n.last_error, null)
      // cpus from the rule (4), not the inventory (8): rules run after the inspection's own findings.
      assert.deepEqual(n.properties, { cpus: 4, memory_mb: 16384, local_gb: 20, cpu_arch: "x86_64", capabilities: "vendor:dell" })
      assert.equal(n.driver_info.ipmi_address, "10.9.0.8")
      assert.deepEqual(n.extra, { inspected_by_rules: true })
      assert.deepEqual((await call("GET", "/v1/nodes/ruled-dell/traits")).body.traits, ["CUSTOM_DELL"])
      const applied = (await call("GET", "/v1/nodes/ruled-dell/history/detail?type=InspectionRulesApplied")).body.history as Array<Record<string, any>>
      assert.equal(applied.length, 1)
      assert.deepEqual(applied[0]!["data"].rules.map((r: { description: string }) => r.description), ["dell bmc", "everyone"])
      assert.match(applied[0]!["event"], /dell bmc: driver_info\/ipmi_address = "10\.9\.0\.8"; properties\/cpus = 4; capability vendor = "dell"; trait CUSTOM_DELL added; plugin_data rack = "r7" \| everyone: extra\/inspected_by_rules = true/)
      assert.equal(applied[0]!["data"].pluginData.rack, "r7")

      // Another vendor: only the rule without conditions matches.
      await inspect("ruled-other", "QEMU", "52:54:00:e1:00:02")
      const other = await settleNode(call, "ruled-other", "manageable")
      assert.equal(other.properties.cpus, 8)
      assert.deepEqual((await call("GET", "/v1/nodes/ruled-other/traits")).body.traits, [])
    } finally {
      for (const uuid of made) await call("DELETE", `/v1/inspection_rules/${uuid}`)
    }
  })

  test("a rule's fail action fails the inspection with its message, keeping nothing; a sensitive rule shows no conditions or actions and stays sensitive", async () => {
    const failing = (await call("POST", "/v1/inspection_rules", {
      description: "no small machines", conditions: [{ op: "lt", args: { values: ["{inventory[memory][physical_mb]}", 32768] } }],
      actions: [{ op: "fail", args: { msg: "only {inventory[memory][physical_mb]} MiB" } }],
    })).body.uuid
    const secret = await call("POST", "/v1/inspection_rules", {
      sensitive: true, priority: 100, conditions: [], actions: [{ op: "set-attribute", args: { path: "/driver_info/ipmi_password", value: "s3cret" } }],
    })
    assert.equal(secret.body.conditions, null)
    assert.equal(secret.body.actions, null)
    const unset = await call("PATCH", `/v1/inspection_rules/${secret.body.uuid}`, [{ op: "replace", path: "/sensitive", value: false }])
    assert.equal(unset.status, 400)
    assert.match(String(errorOf(unset)["faultstring"]), /cannot have the sensitive flag unset/)
    try {
      await inspect("ruled-small", "QEMU", "52:54:00:e1:00:03")
      const n = await settleNode(call, "ruled-small", "inspect failed")
      assert.match(n.last_error, /no small machines\) failed the inspection: only 16384 MiB/)
      // A failed inspection is cleaned up (ADR 0058): the machine is powered off.
      let power = n.power_state
      for (let i = 0; i < 100 && power !== "power off"; i++) { await new Promise((r) => setTimeout(r, 50)); power = (await call("GET", "/v1/nodes/ruled-small")).body.power_state }
      assert.equal(power, "power off")
      // A failed inspection keeps nothing the rules did before the failure; the history says what they did.
      assert.equal(n.driver_info.ipmi_password, undefined)
      const history = JSON.stringify((await call("GET", "/v1/nodes/ruled-small/history/detail")).body)
      assert.match(history, /driver_info\/ipmi_password = \(value not recorded: sensitive rule\)/)
      assert.doesNotMatch(history, /s3cret/, "a sensitive rule's value is in no event")
    } finally {
      await call("DELETE", `/v1/inspection_rules/${failing}`)
      await call("DELETE", `/v1/inspection_rules/${secret.body.uuid}`)
    }
  })
})

describe("inspection rules on discovered machines", () => {
  let svc: TestService
  let call: ReturnType<typeof client>
  before(async () => {
    svc = await startTestService({ notary: false, discovery: { enabled: true, autoEnroll: true, driver: "fake-hardware", driverInfo: {} } })
    call = client(svc.url)
  })
  after(async () => { await svc?.close() })

  test("a discovered machine gets what the rules for auto_discovered machines set; a rule's fail leaves it in enroll with the reason", async () => {
    const made: Array<string> = []
    for (const r of [
      { description: "discovered", conditions: [{ op: "is-true", args: { value: "{plugin_data[auto_discovered]}" } }],
        actions: [{ op: "set-attribute", args: { path: "/driver_info/bmc", value: "{inventory[bmc_address]}" } }, { op: "add-trait", args: { name: "CUSTOM_DISCOVERED" } }] },
      { description: "no tiny machines", conditions: [{ op: "lt", args: { values: ["{inventory[memory][physical_mb]}", 1024] } }], actions: [{ op: "fail", args: { msg: "too small" } }] },
    ]) made.push((await call("POST", "/v1/inspection_rules", r)).body.uuid)
    try {
      const post = (id: string, mac: string, memoryMb: number) => call("POST", "/v1/continue_inspection",
        { inventory: { ...simInventory({ ...defaultSimMachine(id, 8 * GiB, [mac]), memoryMb }), bmc_address: "10.20.0.44" } })
      assert.equal((await post("big", "52:54:00:e2:00:01", 4096)).status, 202)
      assert.equal((await post("tiny", "52:54:00:e2:00:02", 512)).status, 202)
      const byMac = async (mac: string) => (await call("GET", `/v1/nodes/${(await call("GET", `/v1/ports/detail?address=${mac}`)).body.ports[0].node_uuid}`)).body
      let big = await byMac("52:54:00:e2:00:01")
      for (let i = 0; i < 100 && big.provision_state !== "manageable"; i++) { await new Promise((r) => setTimeout(r, 50)); big = await byMac("52:54:00:e2:00:01") }
      assert.equal(big.provision_state, "manageable")
      assert.equal(big.driver_info.bmc, "10.20.0.44")
      assert.deepEqual((await call("GET", `/v1/nodes/${big.uuid}/traits`)).body.traits, ["CUSTOM_DISCOVERED"])
      const tiny = await byMac("52:54:00:e2:00:02")
      assert.equal(tiny.provision_state, "enroll", "not managed: a rule failed it")
      assert.match(tiny.last_error, /no tiny machines\) failed the inspection: too small/)
      assert.equal(tiny.driver_info.bmc, undefined)
    } finally {
      for (const uuid of made) await call("DELETE", `/v1/inspection_rules/${uuid}`)
    }
  })
})
