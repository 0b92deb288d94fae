// The bulk-enroll CSV: records read by csv-parse keep the line each row starts on, so every error
// names the line a person sees in their editor; a bad file is refused as a whole.
import { describe, test } from "node:test"
import assert from "node:assert/strict"
import * as E from "fp-ts/lib/Either.js"
import fc from "fast-check"
import { stringify } from "csv-stringify/sync"
import { parseCsvRecords, parseImportCsv } from "../../../src/cli/csv.ts"

const records = (text: string) => {
  const r = parseCsvRecords(text)
  assert.ok(E.isRight(r), `refused: ${JSON.stringify(r)}`)
  return r.right
}
const refusal = (text: string) => {
  const r = parseImportCsv(text)
  assert.ok(E.isLeft(r), "accepted a bad file")
  return r.left.map((e) => `${e.line}: ${e.message}`)
}

describe("CSV records", () => {
  test("comments, blank lines, a BOM, mixed line ends and quoted line breaks keep each row's first line", () => {
    const text = '\uFEFF# rack 1 "east"\nname,macs\n\n   \nn1,"52:54:00:00:00:01\n52:54:00:00:00:02"\r\nn2,52:54:00:00:00:03\r  # later\nn3,"a ""quoted"", b"'
    assert.deepEqual(records(text).map((r) => [r.line, ...r.cells]), [
      [2, "name", "macs"],
      [5, "n1", "52:54:00:00:00:01\n52:54:00:00:00:02"],
      [7, "n2", "52:54:00:00:00:03"],
      [9, "n3", 'a "quoted", b'],
    ])
  })

  test("broken quoting is refused on the line where the record starts", () => {
    assert.deepEqual(parseCsvRecords('name,macs\nn1,52"54\n'), E.left({ line: 2, message: "a quote in the middle of an unquoted field" }))
    assert.deepEqual(parseCsvRecords('name,macs\n\nn1,"52:54\nn2,x\n'), E.left({ line: 3, message: "a quoted field is not closed" }))
    assert.deepEqual(parseCsvRecords('name,macs\nn1,"x"y\n'), E.left({ line: 2, message: "text after the closing quote of a quoted field" }))
  })

  test("any table written by csv-stringify reads back cell for cell, each row on the line it starts", () => {
    const cell = fc.string({ unit: fc.constantFrom("a", "b", ",", '"', "\n", " ", "7"), maxLength: 6 })
    fc.assert(fc.property(fc.array(fc.array(cell, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 8 }), (rows) => {
      // A first cell that is blank or starts with # would be a skipped line: the importer's rule, not the parser's.
      const kept = rows.map(([a, b]) => [`n${a}`, b!])
      const text = stringify(kept, { quoted: true })
      const back = records(text)
      assert.deepEqual(back.map((r) => r.cells), kept)
      let line = 1
      kept.forEach((row, i) => {
        assert.equal(back[i]!.line, line)
        line += 1 + row.join("").split("\n").length - 1
      })
    }), { numRuns: 200 })
  })
})

describe("the import file", () => {
  test("a good file gives one row per node, with its line", () => {
    const rows = parseImportCsv("name,macs,cpus,driver_info.note\n# spare\nn1,52:54:00:aa:00:01;52:54:00:aa:00:02,8,\"a,b\"\nn2,52-54-00-AA-00-03,,\n")
    assert.ok(E.isRight(rows))
    assert.deepEqual(rows.right.map((r) => [r.line, r.node.name, r.macs, r.node.properties, r.node.driver_info]), [
      [3, "n1", ["52:54:00:aa:00:01", "52:54:00:aa:00:02"], { cpus: 8 }, { note: "a,b" }],
      [4, "n2", ["52:54:00:aa:00:03"], {}, {}],
    ])
  })

  test("every bad row is named by its line, a row spanning lines by its first, and clashes by both lines", () => {
    assert.deepEqual(refusal([
      "name,macs,bmc_port",
      "n1,52:54:00:aa:00:01,623",
      "n2,52:54:00:aa:00:07,99999",
      'n3,"52:54:00:aa:00:03',
      '52:54:00:aa:00:04",x',
      "n1,52:54:00:aa:00:01,623",
      "n4,52:54:00:aa:00:06,623,extra",
    ].join("\n")), [
      '3: bmc_port "99999" is not a TCP port',
      '4: bmc_port "x" is not a TCP port',
      "6: name n1 is already used on line 2",
      "6: MAC 52:54:00:aa:00:01 is already used on line 2",
      "7: has 4 fields, the header has 3",
    ])
  })

  test("an empty file, a header alone and a bad header are refused", () => {
    assert.deepEqual(refusal(""), ["1: the file is empty: it needs a header line"])
    assert.deepEqual(refusal("# only a comment\nname,macs\n"), ["2: the file has a header but no rows"])
    assert.deepEqual(refusal("name,bmc_adress\nn1,x\n"), ['1: unknown column "bmc_adress"', '1: the header needs a "macs" column'])
  })
})
