// The bulk-enroll CSV (`ironledger node import FILE.csv`), like the seeds' baremetal.csv.
// Header-based: the first non-comment line names the columns, in any order.
//
//   name,driver,bmc_address,bmc_port,bmc_user,bmc_password,macs,cpus,memory_mb,local_gb,cpu_arch
//   rack1-01,ipmi,127.0.0.1,9001,admin,secret,52:54:00:aa:00:01;52:54:00:aa:00:02,8,16384,100,x86_64
//
// Columns: name (required), macs (required; one or more MACs separated by ";" or spaces), uuid,
// driver (a hardware type the service has; default ipmi when bmc_address is set, else
// fake-hardware), bmc_address, bmc_port, bmc_user, bmc_password (the BMC, stored under the keys
// the hardware type names for them: see import.ts), deploy_kernel, deploy_ramdisk (driver_info),
// cpus, memory_mb, local_gb, cpu_arch (properties), and free-form driver_info.KEY, properties.KEY,
// instance_info.KEY, extra.KEY. Empty cells are left out. Lines starting with # and blank lines are
// skipped. Fields may be quoted ("a,b"; "" for a quote). Every row is checked before any is applied.
import { CsvError, parse } from "csv-parse/sync"
import * as E from "fp-ts/lib/Either.js"
import { Driver, NodeName, PortNumber, parseMac, parseUuid } from "../domain/index.ts"
import type { BmcSetting } from "./bmc-settings.ts"

export interface ImportRow {
  /** 1-based line of the file where the row starts. */
  readonly line: number
  readonly node: {
    readonly name: string
    readonly uuid?: string
    readonly driver: string
    readonly driver_info: Record<string, string | number>
    readonly properties: Record<string, string | number>
    readonly instance_info: Record<string, string>
    readonly extra: Record<string, string>
  }
  /** The bmc_* cells, stored under the hardware type's own driver_info keys once it is known. */
  readonly bmc: Partial<Record<BmcSetting, string | number>>
  readonly macs: ReadonlyArray<string>
}

export interface RowError {
  readonly line: number
  readonly message: string
}

interface RawRecord {
  readonly line: number
  readonly cells: ReadonlyArray<string>
}

const lineBreaks = /\r\n|\r|\n/g
const countLineBreaks = (text: string) => text.match(lineBreaks)?.length ?? 0

/** The line a record starts on, for an error in the record csv-parse could not finish. */
const startLineOfUnfinished = (src: string, bytesOfFinishedRecords: number): number => {
  const done = Buffer.from(src).subarray(0, bytesOfFinishedRecords).toString()
  const rest = src.slice(done.length)
  const skipped = /^[\r\n]*/.exec(rest)![0]
  return 1 + countLineBreaks(done) + countLineBreaks(skipped)
}

const parserMessages: Record<string, string> = {
  INVALID_OPENING_QUOTE: "a quote in the middle of an unquoted field",
  CSV_INVALID_CLOSING_QUOTE: "text after the closing quote of a quoted field",
  CSV_QUOTE_NOT_CLOSED: "a quoted field is not closed",
}

/** RFC 4180 records, read by csv-parse (ADR 0068); a quoted field may hold commas, quotes ("") and line breaks. */
export const parseCsvRecords = (text: string): E.Either<RowError, ReadonlyArray<RawRecord>> => {
  const src = text.replace(/^\uFEFF/, "")
  let parsed: Array<{ record: Array<string>; info: { lines: number } }>
  try {
    parsed = parse(src, {
      comment: "#", comment_no_infix: true, skip_empty_lines: true, relax_column_count: true, info: true,
      // Files edited on several systems mix line ends.
      record_delimiter: ["\r\n", "\n", "\r"],
    }) as unknown as typeof parsed
  } catch (e) {
    if (!(e instanceof CsvError)) throw e
    const at = e as CsvError & { lines?: number; bytes_records?: number }
    const line = e.code === "CSV_QUOTE_NOT_CLOSED" && at.bytes_records !== undefined
      ? startLineOfUnfinished(src, at.bytes_records) : at.lines ?? 1
    return E.left({ line, message: parserMessages[e.code] ?? e.message })
  }
  // info.lines is the line a record ends on; only its quoted fields can span lines.
  const records = parsed.map(({ record, info }) => ({
    line: info.lines - record.reduce((n, cell) => n + countLineBreaks(cell), 0),
    cells: record,
  }))
  const blank = (cells: ReadonlyArray<string>) => cells.length === 1 && cells[0]!.trim() === ""
  return E.right(records.filter((r) => !blank(r.cells) && !r.cells[0]!.trimStart().startsWith("#")))
}

const driverInfoColumns: Record<string, string> = {
  bmc_address: "address", bmc_port: "port", bmc_user: "username", bmc_password: "password",
  deploy_kernel: "deploy_kernel", deploy_ramdisk: "deploy_ramdisk",
}
const integerProperties = new Set(["cpus", "memory_mb", "local_gb"])
const fixedColumns = new Set(["name", "uuid", "driver", "macs", "cpu_arch", ...integerProperties, ...Object.keys(driverInfoColumns)])
const prefixed = /^(driver_info|properties|instance_info|extra)\.([A-Za-z0-9_.:-]{1,255})$/

const checkHeader = (header: ReadonlyArray<string>, line: number): Array<RowError> => {
  const errors: Array<RowError> = []
  const seen = new Set<string>()
  for (const col of header) {
    if (!fixedColumns.has(col) && !prefixed.test(col)) errors.push({ line, message: `unknown column "${col}"` })
    if (seen.has(col)) errors.push({ line, message: `column "${col}" appears twice` })
    seen.add(col)
  }
  for (const required of ["name", "macs"]) {
    if (!seen.has(required)) errors.push({ line, message: `the header needs a "${required}" column` })
  }
  return errors
}

const rowOf = (header: ReadonlyArray<string>, rec: RawRecord): E.Either<ReadonlyArray<string>, ImportRow> => {
  const problems: Array<string> = []
  if (rec.cells.length !== header.length) {
    return E.left([`has ${rec.cells.length} fields, the header has ${header.length}`])
  }
  const get = (col: string) => {
    const i = header.indexOf(col)
    const v = i < 0 ? "" : rec.cells[i]!.trim()
    return v === "" ? undefined : v
  }
  const name = get("name")
  if (name === undefined) problems.push("name is empty")
  else if (!NodeName.is(name)) problems.push(`name "${name}" is not a valid node name (letters, digits, ._~-)`)
  const uuidRaw = get("uuid")
  const uuid = uuidRaw === undefined ? undefined : parseUuid(uuidRaw)
  if (uuid !== undefined && E.isLeft(uuid)) problems.push(uuid.left)
  const driver = get("driver") ?? (get("bmc_address") !== undefined ? "ipmi" : "fake-hardware")
  if (E.isLeft(Driver.decode(driver))) problems.push(`driver "${driver}" is not a hardware type name`)
  const driverInfo: Record<string, string | number> = {}
  const bmc: Partial<Record<BmcSetting, string | number>> = {}
  for (const [col, key] of Object.entries(driverInfoColumns)) {
    const v = get(col)
    if (v === undefined) continue
    if (col === "bmc_port") {
      if (!/^\d{1,5}$/.test(v) || !PortNumber.is(Number(v))) problems.push(`bmc_port "${v}" is not a TCP port`)
      else bmc.port = Number(v)
    } else if (col.startsWith("bmc_")) bmc[key as BmcSetting] = v
    else driverInfo[key] = v
  }
  const properties: Record<string, string | number> = {}
  for (const col of integerProperties) {
    const v = get(col)
    if (v === undefined) continue
    if (!/^\d{1,12}$/.test(v)) problems.push(`${col} "${v}" is not a whole number`)
    else properties[col] = Number(v)
  }
  const arch = get("cpu_arch")
  if (arch !== undefined) properties["cpu_arch"] = arch
  const instanceInfo: Record<string, string> = {}
  const extra: Record<string, string> = {}
  for (const col of header) {
    const m = prefixed.exec(col)
    const v = get(col)
    if (m === null || v === undefined) continue
    const target = { driver_info: driverInfo, properties, instance_info: instanceInfo, extra }[m[1] as "extra"]
    target[m[2]!] = v
  }
  const macCell = get("macs")
  const macs: Array<string> = []
  if (macCell === undefined) problems.push("macs is empty: a node needs at least one port")
  else {
    for (const m of macCell.split(/[;\s]+/).filter((s) => s !== "")) {
      const mac = parseMac(m)
      if (E.isLeft(mac)) problems.push(mac.left)
      else if (macs.includes(mac.right)) problems.push(`MAC ${mac.right} is listed twice`)
      else macs.push(mac.right)
    }
  }
  if (problems.length > 0) return E.left(problems)
  return E.right({
    line: rec.line,
    node: {
      name: name!, driver, driver_info: driverInfo, properties, instance_info: instanceInfo, extra,
      ...(uuid !== undefined && E.isRight(uuid) ? { uuid: uuid.right } : {}),
    },
    bmc,
    macs,
  })
}

/** Every row checked, and the file checked against itself (duplicate names, UUIDs, MACs). */
export const parseImportCsv = (text: string): E.Either<ReadonlyArray<RowError>, ReadonlyArray<ImportRow>> => {
  const parsed = parseCsvRecords(text)
  if (E.isLeft(parsed)) return E.left([parsed.left])
  const [head, ...body] = parsed.right
  if (head === undefined) return E.left([{ line: 1, message: "the file is empty: it needs a header line" }])
  const header = head.cells.map((c) => c.trim().toLowerCase())
  const headerErrors = checkHeader(header, head.line)
  if (headerErrors.length > 0) return E.left(headerErrors)
  if (body.length === 0) return E.left([{ line: head.line, message: "the file has a header but no rows" }])
  const errors: Array<RowError> = []
  const rows: Array<ImportRow> = []
  const firstLineOf = new Map<string, number>()
  const claim = (key: string, what: string, line: number) => {
    const earlier = firstLineOf.get(key)
    if (earlier !== undefined) errors.push({ line, message: `${what} is already used on line ${earlier}` })
    else firstLineOf.set(key, line)
  }
  for (const rec of body) {
    const row = rowOf(header, rec)
    if (E.isLeft(row)) {
      for (const message of row.left) errors.push({ line: rec.line, message })
      continue
    }
    claim(`name:${row.right.node.name}`, `name ${row.right.node.name}`, rec.line)
    if (row.right.node.uuid !== undefined) claim(`uuid:${row.right.node.uuid}`, `uuid ${row.right.node.uuid}`, rec.line)
    for (const mac of row.right.macs) claim(`mac:${mac}`, `MAC ${mac}`, rec.line)
    rows.push(row.right)
  }
  return errors.length > 0 ? E.left(errors) : E.right(rows)
}
