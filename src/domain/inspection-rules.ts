// Inspection rules (Ironic's, API 1.96; ADR 0142): conditions on what an inspection found, and
// actions on the node when they all hold. Pure: a rule set and a subject (inventory, plugin data,
// the node as the inspection leaves it) in, the node's new fields and a record of what each
// matching rule did out. Names and argument signatures are Ironic's
// (ironic/common/inspection_rules), so a rule written for Ironic reads the same here; the ops
// ironledger does not offer are refused when a rule is created, never skipped when it runs.

import { interpolate, pyStr } from "./rule-references.ts"

export { formatValue } from "./rule-references.ts"

export type RuleArgs = Readonly<Record<string, unknown>> | ReadonlyArray<unknown>

export interface RuleOperation {
  readonly op: string
  readonly args: RuleArgs
}

export interface InspectionRule {
  readonly uuid: string
  readonly description: string | null
  /** Higher first, 0-9999. */
  readonly priority: number
  /** A sensitive rule's conditions and actions are never shown, nor the values it sets recorded. */
  readonly sensitive: boolean
  readonly phase: "main"
  readonly conditions: ReadonlyArray<RuleOperation>
  readonly actions: ReadonlyArray<RuleOperation>
}

/** What rules may read of and change on the node. */
export interface RuleNode {
  readonly uuid: string
  readonly name: string | null
  readonly driver: string
  readonly properties: Readonly<Record<string, unknown>>
  readonly driverInfo: Readonly<Record<string, unknown>>
  readonly extra: Readonly<Record<string, unknown>>
  readonly traits: ReadonlyArray<string>
}

export interface RuleSubject {
  readonly inventory: Readonly<Record<string, unknown>>
  readonly pluginData: Readonly<Record<string, unknown>>
  readonly node: RuleNode
}

/** One matching rule and what its actions did, in order ("properties/cpus = 8", "trait CUSTOM_X added"). */
export interface MatchedRule {
  readonly uuid: string
  readonly description: string | null
  readonly did: ReadonlyArray<string>
}

export type RuleOutcome =
  | { readonly kind: "applied"; readonly matched: ReadonlyArray<MatchedRule>; readonly node: RuleNode; readonly pluginData: Record<string, unknown> }
  | { readonly kind: "failed"; readonly matched: ReadonlyArray<MatchedRule>; readonly rule: string; readonly message: string }

interface Signature { readonly required: ReadonlyArray<string>; readonly optional: ReadonlyArray<string> }
const sig = (required: ReadonlyArray<string>, optional: ReadonlyArray<string> = []): Signature => ({ required, optional })

/** Condition operators offered (Ironic's OPERATORS less in-net), each with Ironic's argument names. */
export const conditionOperators: Readonly<Record<string, Signature>> = {
  eq: sig(["values"], ["force_strings"]),
  lt: sig(["values"], ["force_strings"]),
  gt: sig(["values"], ["force_strings"]),
  "is-empty": sig(["value"]),
  "is-none": sig(["value"]),
  "is-true": sig(["value"]),
  "is-false": sig(["value"]),
  "one-of": sig(["value"], ["values"]),
  matches: sig(["value", "regex"]),
  contains: sig(["value", "regex"]),
}

/** Actions offered (a subset of Ironic's ACTIONS). */
export const ruleActions: Readonly<Record<string, Signature>> = {
  "set-attribute": sig(["path", "value"]),
  "del-attribute": sig(["path"]),
  "set-capability": sig(["name", "value"]),
  "unset-capability": sig(["name"]),
  "add-trait": sig(["name"]),
  "remove-trait": sig(["name"]),
  "set-plugin-data": sig(["path", "value"]),
  log: sig(["msg"], ["level"]),
  fail: sig(["msg"]),
}

/** The node fields set-attribute and del-attribute may reach. */
export const settableFields = { properties: "properties", driver_info: "driverInfo", extra: "extra" } as const
const LOG_LEVELS = ["debug", "info", "warning", "error", "critical"]
const TRAIT = /^[A-Z0-9_]{1,255}$/

class RuleError extends Error {}

/** "!eq" is eq inverted; one "!" at most (Ironic's parse_inverted_operator). */
export const parseOperator = (raw: string): { readonly op: string; readonly inverted: boolean } | null => {
  const op = raw.trim()
  if ((op.match(/!/g) ?? []).length > 1) return null
  return { op: op.replace(/^!\s*/, "").trim(), inverted: op.startsWith("!") }
}

/** Positional args are named by the signature, in order (Ironic's _normalize_list_args). */
const named = (args: RuleArgs, s: Signature): Record<string, unknown> | string => {
  if (!Array.isArray(args)) return { ...(args as Record<string, unknown>) }
  if (args.length < s.required.length) return `not enough arguments: missing ${s.required.slice(args.length).join(", ")}`
  const all = [...s.required, ...s.optional]
  if (args.length > all.length) return `too many arguments: at most ${all.length} (${all.join(", ")})`
  return Object.fromEntries(args.map((v, i) => [all[i]!, v]))
}

const argProblems = (o: RuleOperation, s: Signature): ReadonlyArray<string> => {
  const args = named(o.args, s)
  if (typeof args === "string") return [args]
  const missing = s.required.filter((k) => !(k in args))
  const unexpected = Object.keys(args).filter((k) => !s.required.includes(k) && !s.optional.includes(k))
  return [
    ...(missing.length > 0 ? [`missing required argument(s): ${missing.join(", ")}`] : []),
    ...(unexpected.length > 0 ? [`unexpected argument(s): ${unexpected.join(", ")}`] : []),
  ]
}

const hasReference = (v: unknown) => typeof v === "string" && /\{[^{]/.test(v.replace(/\{\{/g, ""))

/** Python's leading (?i) as a flag; the rest must be a regular expression JavaScript reads. */
const compile = (regex: string, whole: boolean): RegExp => {
  const insensitive = regex.startsWith("(?i)")
  const body = insensitive ? regex.slice(4) : regex
  try {
    return new RegExp(whole ? `^(?:${body})$` : body, insensitive ? "iu" : "u")
  } catch (e) {
    throw new RuleError(`invalid regular expression ${JSON.stringify(regex)}: ${(e as Error).message}`)
  }
}

/** Everything wrong with a rule's conditions and actions (empty: none), as Ironic's validate_rule lists it. */
export const ruleProblems = (rule: { readonly conditions: ReadonlyArray<RuleOperation>; readonly actions: ReadonlyArray<RuleOperation> }): ReadonlyArray<string> => {
  const problems: Array<string> = []
  if (rule.actions.length === 0) problems.push("a rule needs at least one action")
  rule.conditions.forEach((c, i) => {
    const parsed = parseOperator(c.op)
    if (parsed === null) { problems.push(`conditions[${i}]: multiple exclamation marks are not allowed (one inverts: !eq)`); return }
    const s = conditionOperators[parsed.op]
    if (s === undefined) { problems.push(`conditions[${i}]: unsupported operator ${JSON.stringify(c.op)}; supported: ${Object.keys(conditionOperators).join(", ")}`); return }
    problems.push(...argProblems(c, s).map((p) => `conditions[${i}] (${parsed.op}): ${p}`))
    const args = named(c.args, s)
    if (typeof args === "object" && typeof args["regex"] === "string" && !hasReference(args["regex"])) {
      try { compile(args["regex"], false) } catch (e) { problems.push(`conditions[${i}] (${parsed.op}): ${(e as Error).message}`) }
    }
  })
  rule.actions.forEach((a, i) => {
    const s = ruleActions[a.op]
    if (s === undefined) { problems.push(`actions[${i}]: unsupported action ${JSON.stringify(a.op)}; supported: ${Object.keys(ruleActions).join(", ")}`); return }
    problems.push(...argProblems(a, s).map((p) => `actions[${i}] (${a.op}): ${p}`))
    const args = named(a.args, s)
    if (typeof args !== "object") return
    if ((a.op === "set-attribute" || a.op === "del-attribute") && typeof args["path"] === "string" && !hasReference(args["path"])) {
      const [field, ...rest] = normalizePath(args["path"])
      if (!(field! in settableFields)) problems.push(`actions[${i}] (${a.op}): path ${JSON.stringify(args["path"])} must start with ${Object.keys(settableFields).join(", ")}`)
      else if (a.op === "del-attribute" && rest.length === 0) problems.push(`actions[${i}] (del-attribute): ${field} itself cannot be deleted`)
    }
    if (a.op === "log" && args["level"] !== undefined && !LOG_LEVELS.includes(String(args["level"]).toLowerCase())) {
      problems.push(`actions[${i}] (log): invalid log level ${JSON.stringify(args["level"])}; choose from ${LOG_LEVELS.join(", ")}`)
    }
  })
  return problems
}

/** A slash or dot path as its parts (Ironic's normalize_path). */
export const normalizePath = (path: string): Array<string> => path.includes("/") ? path.replace(/^\/+|\/+$/g, "").split("/") : path.split(".")

// --- conditions ---

const deepEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const x = a as Record<string, unknown>, y = b as Record<string, unknown>
  const ka = Object.keys(x), kb = Object.keys(y)
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(y, k) && deepEqual(x[k], y[k]))
}

const ordered = (a: unknown, b: unknown, op: "lt" | "gt"): boolean => {
  const comparable = (typeof a === "number" && typeof b === "number") || (typeof a === "string" && typeof b === "string")
  if (!comparable) throw new RuleError(`${op}: cannot compare ${JSON.stringify(a)} with ${JSON.stringify(b)}`)
  return op === "lt" ? (a as number) < (b as number) : (a as number) > (b as number)
}

const checkOp = (op: string, a: Record<string, unknown>): boolean => {
  switch (op) {
    case "eq": case "lt": case "gt": {
      if (!Array.isArray(a["values"])) throw new RuleError(`${op}: values must be a list`)
      const values = a["force_strings"] === true ? a["values"].map(pyStr) : a["values"]
      const pair = op === "eq" ? deepEqual : (x: unknown, y: unknown) => ordered(x, y, op)
      return values.every((v, i) => i === 0 || pair(values[i - 1], v))
    }
    case "is-empty": {
      const v = a["value"]
      return v === "" || v === null || v === undefined || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && v !== null && Object.keys(v).length === 0)
    }
    case "is-none": return a["value"] === null || a["value"] === undefined
    case "is-true": case "is-false": {
      const v = a["value"], want = op === "is-true"
      if (typeof v === "boolean") return v === want
      if (typeof v === "number") return (v !== 0) === want
      if (typeof v === "string") return (want ? ["yes", "true"] : ["no", "false"]).includes(v.toLowerCase())
      return !want && (v === null || v === undefined)
    }
    case "one-of": return Array.isArray(a["values"]) && a["values"].some((v) => deepEqual(v, a["value"]))
    case "matches": case "contains": {
      if (typeof a["regex"] !== "string") throw new RuleError(`${op}: regex must be a string`)
      return compile(a["regex"], op === "matches").test(pyStr(a["value"]))
    }
    default: throw new RuleError(`unsupported operator ${op}`)
  }
}

/** Whether one condition holds for the context (an inverted operator's result inverted). */
export const checkCondition = (c: RuleOperation, context: Readonly<Record<string, unknown>>): boolean => {
  const parsed = parseOperator(c.op)
  const s = parsed === null ? undefined : conditionOperators[parsed.op]
  if (parsed === null || s === undefined) throw new RuleError(`unsupported operator ${JSON.stringify(c.op)}`)
  const args = named(c.args, s)
  if (typeof args === "string") throw new RuleError(args)
  const result = checkOp(parsed.op, interpolate(args, context) as Record<string, unknown>)
  return parsed.inverted ? !result : result
}

// --- actions ---

interface Working {
  node: { -readonly [K in keyof RuleNode]: RuleNode[K] }
  pluginData: Record<string, unknown>
}

const setIn = (root: Record<string, unknown>, parts: ReadonlyArray<string>, value: unknown, where: string) => {
  let current = root
  for (const part of parts.slice(0, -1)) {
    const next = current[part] ?? {}
    if (typeof next !== "object" || next === null || Array.isArray(next)) throw new RuleError(`${where}: ${part} is not an object`)
    current = current[part] = { ...(next as Record<string, unknown>) }
  }
  current[parts.at(-1)!] = value
}

/** Ironic's capabilities string "k1:v1,k2:v2" as pairs, and back. */
const capabilities = (raw: unknown): Array<[string, string]> =>
  typeof raw !== "string" || raw === "" ? [] : raw.split(",").map((kv) => { const i = kv.indexOf(":"); return [kv.slice(0, i < 0 ? kv.length : i), i < 0 ? "" : kv.slice(i + 1)] })
const capabilityString = (pairs: ReadonlyArray<[string, string]>) => pairs.map(([k, v]) => `${k}:${v}`).join(",")

const shown = (v: unknown, sensitive: boolean) => sensitive ? "(value not recorded: sensitive rule)" : JSON.stringify(v)

/** Runs one action on the working copy; what it did, or the message of a `fail`. */
const runAction = (a: RuleOperation, w: Working, context: Readonly<Record<string, unknown>>, sensitive: boolean): { did: string } | { fail: string } => {
  const s = ruleActions[a.op]
  if (s === undefined) throw new RuleError(`unsupported action ${a.op}`)
  const raw = named(a.args, s)
  if (typeof raw === "string") throw new RuleError(raw)
  const args = interpolate(raw, context) as Record<string, unknown>
  const str = (k: string) => { const v = args[k]; if (typeof v !== "string") throw new RuleError(`${a.op}: ${k} must be a string`); return v }
  switch (a.op) {
    case "set-attribute": case "del-attribute": {
      const parts = normalizePath(str("path"))
      const field = settableFields[parts[0] as keyof typeof settableFields]
      if (field === undefined) throw new RuleError(`${a.op}: path ${str("path")} must start with ${Object.keys(settableFields).join(", ")}`)
      const copy = { ...w.node[field] } as Record<string, unknown>
      if (a.op === "del-attribute") {
        if (parts.length < 2) throw new RuleError(`del-attribute: ${parts[0]} itself cannot be deleted`)
        let current: Record<string, unknown> = copy
        for (const part of parts.slice(1, -1)) {
          const next = current[part]
          if (typeof next !== "object" || next === null) throw new RuleError(`del-attribute: ${str("path")} does not exist`)
          current = current[part] = { ...(next as Record<string, unknown>) }
        }
        if (!Object.hasOwn(current, parts.at(-1)!)) throw new RuleError(`del-attribute: ${str("path")} does not exist`)
        delete current[parts.at(-1)!]
        w.node[field] = copy
        return { did: `${parts.join("/")} deleted` }
      }
      if (parts.length === 1) {
        if (typeof args["value"] !== "object" || args["value"] === null || Array.isArray(args["value"])) throw new RuleError(`set-attribute: ${parts[0]} must be set to an object`)
        w.node[field] = { ...(args["value"] as Record<string, unknown>) }
      } else {
        setIn(copy, parts.slice(1), args["value"], `set-attribute ${str("path")}`)
        w.node[field] = copy
      }
      return { did: `${parts.join("/")} = ${shown(args["value"], sensitive)}` }
    }
    case "set-capability": case "unset-capability": {
      const name = str("name")
      const pairs = capabilities(w.node.properties["capabilities"]).filter(([k]) => k !== name)
      if (a.op === "set-capability") pairs.push([name, pyStr(args["value"])])
      w.node.properties = { ...w.node.properties, capabilities: capabilityString(pairs) }
      return { did: a.op === "set-capability" ? `capability ${name} = ${shown(pyStr(args["value"]), sensitive)}` : `capability ${name} unset` }
    }
    case "add-trait": case "remove-trait": {
      const name = str("name")
      if (a.op === "add-trait") {
        if (!TRAIT.test(name)) throw new RuleError(`add-trait: ${JSON.stringify(name.slice(0, 80))} is not a trait (upper case letters, digits, "_")`)
        if (!w.node.traits.includes(name)) w.node.traits = [...w.node.traits, name].sort()
        return { did: `trait ${name} added` }
      }
      w.node.traits = w.node.traits.filter((t) => t !== name)
      return { did: `trait ${name} removed` }
    }
    case "set-plugin-data": {
      const parts = str("path").split(".")
      const copy = structuredClone(w.pluginData)
      setIn(copy, parts, args["value"], `set-plugin-data ${str("path")}`)
      w.pluginData = copy
      return { did: `plugin_data ${parts.join(".")} = ${shown(args["value"], sensitive)}` }
    }
    case "log": return { did: `log (${String(args["level"] ?? "info").toLowerCase()}): ${sensitive ? "(sensitive)" : pyStr(args["msg"])}` }
    case "fail": return { fail: pyStr(args["msg"]) }
    default: throw new RuleError(`unsupported action ${a.op}`)
  }
}

/** Rules in the order they run: higher priority first; equal ones in the order given (creation). */
export const ruleOrder = <R extends Pick<InspectionRule, "priority">>(rules: ReadonlyArray<R>): Array<R> =>
  rules.map((r, i) => [r, i] as const).sort(([a, i], [b, j]) => b.priority - a.priority || i - j).map(([r]) => r)

/**
 * Applies the rules to the subject: each rule whose conditions all hold (none: always) runs its
 * actions in order on the node as earlier rules left it. A `fail` action, or a condition or
 * action that cannot be evaluated (an invalid regex after interpolation, numbers compared with
 * strings, a path through a non-object), stops there: the inspection fails with that message.
 */
export const applyInspectionRules = (rules: ReadonlyArray<InspectionRule>, subject: RuleSubject): RuleOutcome => {
  const w: Working = {
    node: { ...subject.node, properties: { ...subject.node.properties }, driverInfo: { ...subject.node.driverInfo }, extra: { ...subject.node.extra }, traits: [...subject.node.traits] },
    pluginData: structuredClone(subject.pluginData) as Record<string, unknown>,
  }
  const matched: Array<MatchedRule> = []
  for (const rule of ruleOrder(rules.filter((r) => r.phase === "main"))) {
    const context = () => ({ inventory: subject.inventory, plugin_data: w.pluginData, node: { ...w.node, driver_info: w.node.driverInfo } })
    const where = `inspection rule ${rule.uuid}${rule.description === null ? "" : ` (${rule.description})`}`
    try {
      if (!rule.conditions.every((c) => checkCondition(c, context()))) continue
      const did: Array<string> = []
      for (const a of rule.actions) {
        const r = runAction(a, w, context(), rule.sensitive)
        if ("fail" in r) {
          matched.push({ uuid: rule.uuid, description: rule.description, did: [...did, `fail: ${r.fail}`] })
          return { kind: "failed", matched, rule: rule.uuid, message: `${where} failed the inspection: ${r.fail}` }
        }
        did.push(r.did)
      }
      matched.push({ uuid: rule.uuid, description: rule.description, did })
    } catch (e) {
      if (!(e instanceof RuleError)) throw e
      return { kind: "failed", matched, rule: rule.uuid, message: `${where}: ${e.message}` }
    }
  }
  return { kind: "applied", matched, node: w.node, pluginData: w.pluginData }
}
