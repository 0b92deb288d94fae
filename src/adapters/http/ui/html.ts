// HTML built from tagged templates: every interpolated value is escaped unless it is already Html
// (a fragment built the same way), so a user-controlled string can never become markup.
export class Html {
  readonly text: string
  constructor(text: string) { this.text = text }
  toString() { return this.text }
}

const entities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" }

export const escapeHtml = (s: string): string => s.replace(/[&<>"'`]/g, (c) => entities[c]!)

type Part = Html | string | number | boolean | null | undefined | ReadonlyArray<Part>

const render = (v: Part): string => {
  if (v === null || v === undefined || v === false) return ""
  if (v instanceof Html) return v.text
  if (Array.isArray(v)) return v.map(render).join("")
  return escapeHtml(String(v))
}

export const html = (strings: TemplateStringsArray, ...values: ReadonlyArray<Part>): Html =>
  new Html(strings.reduce((out, s, i) => out + s + (i < values.length ? render(values[i] as Part) : ""), ""))

/** A query string for links, each value percent-encoded (then escaped as an attribute by html). */
export const queryOf = (params: Record<string, string | null | undefined>): string => {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, v)
  const s = q.toString()
  return s === "" ? "" : `?${s}`
}
