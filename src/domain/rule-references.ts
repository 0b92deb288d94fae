// Field references in inspection rules' arguments (ADR 0142): Python format fields such as
// "{inventory[cpu][count]}", "{node.properties[cpus]}", "{plugin_data[x]}", filled from a context
// of plain JSON values. Pure.

const UNRESOLVED = Symbol("unresolved")

/** The value a Python format field names in the context, or UNRESOLVED. */
const lookUp = (field: string, context: Readonly<Record<string, unknown>>): unknown => {
  const root = /^[A-Za-z_]\w*/.exec(field)
  if (root === null) return UNRESOLVED
  let value: unknown = Object.hasOwn(context, root[0]) ? context[root[0]] : UNRESOLVED
  let rest = field.slice(root[0].length)
  while (rest.length > 0 && value !== UNRESOLVED) {
    const step = /^\[([^\]]+)\]|^\.([A-Za-z_]\w*)/.exec(rest)
    if (step === null) return UNRESOLVED
    const key = step[1] ?? step[2]!
    if (Array.isArray(value) && step[1] !== undefined && /^\d+$/.test(key)) value = Number(key) < value.length ? value[Number(key)] : UNRESOLVED
    else if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.hasOwn(value, key)) value = (value as Record<string, unknown>)[key]
    else value = UNRESOLVED
    rest = rest.slice(step[0].length)
  }
  return value
}

/** Python's str() of a JSON value, as format would print it. */
export const pyStr = (v: unknown): string =>
  typeof v === "string" ? v : v === null || v === undefined ? "None" : typeof v === "boolean" ? (v ? "True" : "False") : typeof v === "number" ? String(v) : JSON.stringify(v)

/**
 * A string's references filled in. A string that is exactly one reference gives the value itself
 * (a number stays a number, so gt/lt compare numbers); any reference that does not resolve leaves
 * the string as it was, as Ironic's safe_format does.
 */
export const formatValue = (text: string, context: Readonly<Record<string, unknown>>): unknown => {
  const whole = /^\{([^{}]+)\}$/.exec(text)
  if (whole !== null) {
    const v = lookUp(whole[1]!, context)
    return v === UNRESOLVED ? text : v
  }
  let failed = false
  const out = text.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, field: string | undefined) => {
    if (m === "{{") return "{"
    if (m === "}}") return "}"
    const v = lookUp(field ?? "", context)
    if (v === UNRESOLVED) { failed = true; return m }
    return pyStr(v)
  })
  return failed ? text : out
}

export const interpolate = (v: unknown, context: Readonly<Record<string, unknown>>): unknown =>
  typeof v === "string" ? formatValue(v, context)
  : Array.isArray(v) ? v.map((x) => interpolate(x, context))
  : typeof v === "object" && v !== null ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolate(x, context)]))
  : v
