// The service imports Effect module by module: `from "effect"` evaluates the whole package
// (~250 modules, ~20 MB of RSS more than the ones used, ADR 0155).
import { test } from "node:test"
import assert from "node:assert/strict"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const sources = (dir: string): Array<string> => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [])

test("no source file imports the effect barrel", () => {
  const root = join(import.meta.dirname, "../../src")
  const files = sources(root)
  assert.ok(files.length > 100, `found only ${files.length} sources under ${root}`)
  const offenders = files.filter((f) => /\bfrom\s+["']effect["']/.test(readFileSync(f, "utf8")))
  assert.deepEqual(offenders, [], `import from "effect/<Module>" instead of the barrel in: ${offenders.join(", ")}`)
})
