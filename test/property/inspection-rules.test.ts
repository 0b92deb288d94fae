// The evaluation of inspection rules (ADR 0142), a pure function: examples of each operator and
// action as Ironic names them, and properties over generated inventories and rule sets.
import { test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import {
  applyInspectionRules, checkCondition, formatValue, ruleProblems,
  type InspectionRule, type RuleNode, type RuleOperation, type RuleSubject,
} from "../../src/domain/inspection-rules.ts"

const node: RuleNode = { uuid: "n-1", name: null, driver: "ipmi", properties: { cpus: 4 }, driverInfo: { ipmi_address: "10.0.0.5" }, extra: {}, traits: [] }
const inventory = {
  cpu: { count: 4, architecture: "x86_64" }, memory: { physical_mb: 8192 },
  system_vendor: { manufacturer: "Dell Inc.", product_name: "PowerEdge R640" },
  interfaces: [{ name: "eth0", mac_address: "52:54:00:aa:bb:cc" }], bmc_address: "192.0.2.10",
}
const subject: RuleSubject = { inventory, pluginData: {}, node }
const ctx = { inventory, plugin_data: {}, node }
let n = 0
const rule = (conditions: ReadonlyArray<RuleOperation>, actions: ReadonlyArray<RuleOperation>, over: Partial<InspectionRule> = {}): InspectionRule =>
  ({ uuid: `r-${++n}`, description: null, priority: 0, sensitive: false, phase: "main", conditions, actions, ...over })

test("field references: a whole reference keeps its type, text around it makes a string, an unknown one leaves the text", () => {
  assert.equal(formatValue("{inventory[cpu][count]}", ctx), 4)
  assert.equal(formatValue("{inventory[interfaces][0][mac_address]}", ctx), "52:54:00:aa:bb:cc")
  assert.equal(formatValue("{node.properties[cpus]} CPUs on {inventory[system_vendor][product_name]}", ctx), "4 CPUs on PowerEdge R640")
  assert.equal(formatValue("https://{inventory[bmc_address]}", ctx), "https://192.0.2.10")
  assert.equal(formatValue("{inventory[nothing]} here", ctx), "{inventory[nothing]} here")
  assert.equal(formatValue("{{literal}}", ctx), "{literal}")
})

test("conditions: Ironic's operators, inverted with !", () => {
  const holds = (op: string, args: RuleOperation["args"]) => checkCondition({ op, args }, ctx)
  assert.equal(holds("eq", { values: ["{inventory[cpu][count]}", 4] }), true)
  assert.equal(holds("eq", [["{inventory[cpu][count]}", "4"]]), false)
  assert.equal(holds("eq", { values: ["{inventory[cpu][count]}", "4"], force_strings: true }), true)
  assert.equal(holds("gt", { values: ["{inventory[memory][physical_mb]}", 4096] }), true)
  assert.equal(holds("lt", { values: [1, 2, 3] }), true)
  assert.equal(holds("lt", { values: [1, 3, 2] }), false)
  assert.equal(holds("contains", { value: "{inventory[system_vendor][manufacturer]}", regex: "(?i)dell" }), true)
  assert.equal(holds("matches", { value: "{inventory[system_vendor][product_name]}", regex: "PowerEdge" }), false, "matches is a whole match")
  assert.equal(holds("matches", ["{inventory[system_vendor][product_name]}", "PowerEdge R\\d+"]), true)
  assert.equal(holds("is-empty", { value: "{inventory[interfaces]}" }), false)
  assert.equal(holds("is-empty", { value: "" }), true)
  assert.equal(holds("one-of", { value: "{inventory[cpu][architecture]}", values: ["aarch64", "x86_64"] }), true)
  assert.equal(holds("is-true", { value: "yes" }), true)
  assert.equal(holds("is-false", { value: null }), true)
  assert.equal(holds("is-none", { value: null }), true)
  assert.equal(holds("!eq", { values: [1, 2] }), true)
})

test("validation names every problem, as Ironic's validate_rule does", () => {
  assert.deepEqual(ruleProblems({ conditions: [], actions: [{ op: "add-trait", args: { name: "CUSTOM_X" } }] }), [])
  const problems = ruleProblems({
    conditions: [{ op: "in-net", args: {} }, { op: "!!eq", args: {} }, { op: "eq", args: { value: 1 } }, { op: "contains", args: { value: "x", regex: "(" } }],
    actions: [{ op: "api-call", args: {} }, { op: "set-attribute", args: { path: "/name", value: "x" } }, { op: "log", args: { msg: "m", level: "loud" } }],
  })
  assert.equal(problems.length, 8, problems.join("\n"))
  assert.match(problems[0]!, /unsupported operator "in-net"; supported: eq, lt, gt/)
  assert.match(problems[2]!, /missing required argument\(s\): values/)
  assert.match(problems[3]!, /unexpected argument\(s\): value/)
  assert.match(problems[4]!, /invalid regular expression/)
  assert.match(problems[5]!, /unsupported action "api-call"/)
  assert.match(problems[6]!, /must start with properties, driver_info, extra/)
  assert.deepEqual(ruleProblems({ conditions: [], actions: [] }), ["a rule needs at least one action"])
})

test("actions: attributes, capabilities, traits, plugin data, log; priority order; a fail stops", () => {
  const out = applyInspectionRules([
    rule([{ op: "contains", args: { value: "{inventory[system_vendor][manufacturer]}", regex: "(?i)dell" } }], [
      { op: "set-attribute", args: { path: "/driver_info/ipmi_address", value: "{inventory[bmc_address]}" } },
      { op: "set-attribute", args: { path: "properties.vendor", value: "{inventory[system_vendor][manufacturer]}" } },
      { op: "set-capability", args: { name: "boot_mode", value: "uefi" } },
      { op: "add-trait", args: { name: "CUSTOM_DELL" } },
      { op: "set-plugin-data", args: { path: "site.rack", value: "r1" } },
      { op: "log", args: { msg: "a Dell with {inventory[cpu][count]} CPUs" } },
    ], { priority: 10, description: "dell" }),
    rule([], [{ op: "set-attribute", args: { path: "/extra/seen", value: true } }, { op: "set-capability", args: { name: "boot_mode", value: "bios" } }], { priority: 5 }),
    rule([{ op: "eq", args: { values: [1, 2] } }], [{ op: "fail", args: { msg: "never" } }], { priority: 99 }),
  ], subject)
  assert.equal(out.kind, "applied")
  if (out.kind !== "applied") return
  assert.deepEqual(out.node.driverInfo, { ipmi_address: "192.0.2.10" })
  assert.deepEqual(out.node.properties, { cpus: 4, vendor: "Dell Inc.", capabilities: "boot_mode:bios" })
  assert.deepEqual(out.node.extra, { seen: true })
  assert.deepEqual(out.node.traits, ["CUSTOM_DELL"])
  assert.deepEqual(out.pluginData, { site: { rack: "r1" } })
  assert.deepEqual(out.matched.map((m) => m.description ?? "(none)"), ["dell", "(none)"])
  assert.equal(out.matched[0]!.did[5], "log (info): a Dell with 4 CPUs")

  const failed = applyInspectionRules([
    rule([], [{ op: "add-trait", args: { name: "CUSTOM_A" } }, { op: "fail", args: { msg: "no {inventory[cpu][architecture]} here" } }, { op: "add-trait", args: { name: "CUSTOM_B" } }]),
  ], subject)
  assert.equal(failed.kind, "failed")
  if (failed.kind === "failed") {
    assert.match(failed.message, /failed the inspection: no x86_64 here$/)
    assert.deepEqual(failed.matched[0]!.did, ["trait CUSTOM_A added", "fail: no x86_64 here"])
  }
  const broken = applyInspectionRules([rule([{ op: "gt", args: { values: ["{inventory[system_vendor][manufacturer]}", 3] } }], [{ op: "add-trait", args: { name: "CUSTOM_A" } }])], subject)
  assert.equal(broken.kind, "failed")
  if (broken.kind === "failed") assert.match(broken.message, /cannot compare "Dell Inc\." with 3/)
  const sensitive = applyInspectionRules([rule([], [{ op: "set-attribute", args: { path: "driver_info/ipmi_password", value: "pw" } }], { sensitive: true })], subject)
  assert.ok(sensitive.kind === "applied" && !JSON.stringify(sensitive.matched).includes("pw"), "a sensitive rule's values are not in its record")
})

// --- properties ---

const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null),
    fc.array(tie("value"), { maxLength: 3 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }).filter((k) => !k.includes("]")), tie("value"), { maxKeys: 3 })),
})).value
const key = fc.stringMatching(/^[a-z]{1,6}$/)
const anInventory = fc.dictionary(key, json, { maxKeys: 5 })
const simpleCondition: fc.Arbitrary<RuleOperation> = fc.oneof(
  fc.record({ op: fc.constantFrom("eq", "!eq"), args: fc.record({ values: fc.array(fc.oneof(fc.integer({ min: 0, max: 3 }), key.map((k) => `{inventory[${k}]}`)), { maxLength: 3 }) }) }),
  fc.record({ op: fc.constantFrom("is-empty", "!is-empty", "is-none", "is-true", "!is-false"), args: fc.record({ value: key.map((k) => `{inventory[${k}]}`) }) }),
  fc.record({ op: fc.constantFrom("contains", "!contains", "matches"), args: fc.record({ value: key.map((k) => `{inventory[${k}]}`), regex: fc.constantFrom("a", "^b", "x+", "(?i)A") }) }),
)
const setAction = fc.record({ path: key.map((k) => `/properties/${k}`), value: fc.integer() })
  .map(({ path, value }) => ({ op: "set-attribute", args: { path, value } }))
const aRule = fc.record({
  uuid: fc.uuid(), description: fc.constant(null), priority: fc.integer({ min: 0, max: 9999 }), sensitive: fc.boolean(),
  phase: fc.constant("main" as const), conditions: fc.array(simpleCondition, { maxLength: 2 }), actions: fc.array(setAction, { minLength: 1, maxLength: 3 }),
})

test("property: ! inverts every operator", () => {
  fc.assert(fc.property(simpleCondition, anInventory, (c, inv) => {
    const context = { inventory: inv, plugin_data: {}, node }
    const plain = c.op.replace(/^!/, "")
    assert.equal(checkCondition({ op: `!${plain}`, args: c.args }, context), !checkCondition({ op: plain, args: c.args }, context))
  }), { numRuns: 300 })
})

test("property: evaluation is pure: the same answer twice, its inputs untouched", () => {
  fc.assert(fc.property(fc.array(aRule, { maxLength: 4 }), anInventory, (rules, inv) => {
    const s: RuleSubject = { inventory: inv, pluginData: {}, node }
    const before = JSON.stringify([rules, s])
    const first = applyInspectionRules(rules, s)
    assert.deepEqual(applyInspectionRules(rules, s), first)
    assert.equal(JSON.stringify([rules, s]), before)
  }), { numRuns: 200 })
})

test("property: a rule whose condition fails changes nothing; matched rules run highest priority first, the last write wins", () => {
  fc.assert(fc.property(fc.array(aRule, { minLength: 1, maxLength: 5 }), anInventory, (rules, inv) => {
    const s: RuleSubject = { inventory: inv, pluginData: {}, node }
    const never = rules.map((r) => ({ ...r, conditions: [...r.conditions, { op: "eq", args: { values: [0, 1] } }] }))
    const none = applyInspectionRules(never, s)
    assert.ok(none.kind === "applied" && none.matched.length === 0 && JSON.stringify(none.node) === JSON.stringify(node))
    const always = rules.map((r) => ({ ...r, conditions: [] }))
    const out = applyInspectionRules(always, s)
    assert.equal(out.kind, "applied")
    if (out.kind !== "applied") return
    // Expected: each property from the last write in (priority desc, given order) order.
    const order = always.map((r, i) => [r, i] as const).sort(([a, i], [b, j]) => b.priority - a.priority || i - j).map(([r]) => r)
    assert.deepEqual(out.matched.map((m) => m.uuid), order.map((r) => r.uuid))
    const expected: Record<string, unknown> = { ...node.properties }
    for (const r of order) for (const a of r.actions) expected[(a.args as { path: string }).path.split("/")[2]!] = (a.args as { value: number }).value
    assert.deepEqual(out.node.properties, expected)
  }), { numRuns: 200 })
})

test("property: a whole reference to any value of the inventory gives that value", () => {
  fc.assert(fc.property(anInventory, (inv) => {
    for (const [k, v] of Object.entries(inv)) assert.deepEqual(formatValue(`{inventory[${k}]}`, { inventory: inv }), v)
  }))
})
