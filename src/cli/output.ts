// Output for people (aligned tables, field/value lists) and for scripts (--json).

export interface Out {
  readonly json: boolean
  readonly write: (text: string) => void
}

export const stdoutOut = (json: boolean): Out => ({ json, write: (text) => process.stdout.write(text) })

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return ""
  if (typeof v === "object") return JSON.stringify(v)
  return String(v)
}

export const table = (out: Out, columns: ReadonlyArray<readonly [label: string, key: string]>, rows: ReadonlyArray<object>) => {
  if (out.json) return out.write(`${JSON.stringify(rows, null, 2)}\n`)
  const cells = rows.map((r) => columns.map(([, key]) => cell((r as Record<string, unknown>)[key]).replace(/\s*\n\s*/g, " ")))
  const widths = columns.map(([label], i) => Math.max(label.length, ...cells.map((c) => c[i]!.length)))
  const line = (values: ReadonlyArray<string>) => values.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd()
  out.write(`${line(columns.map(([label]) => label))}\n${line(widths.map((w) => "-".repeat(w)))}\n`)
  for (const c of cells) out.write(`${line(c)}\n`)
}

/** One record as field / value lines. */
export const record = (out: Out, doc: Record<string, unknown>, skip: ReadonlyArray<string> = ["links", "ports", "states"]) => {
  if (out.json) return out.write(`${JSON.stringify(doc, null, 2)}\n`)
  const keys = Object.keys(doc).filter((k) => !skip.includes(k))
  const width = Math.max(...keys.map((k) => k.length))
  for (const k of keys) out.write(`${k.padEnd(width)}  ${cell(doc[k])}\n`)
}

export const humanBytes = (n: number): string => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"]
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`
}
