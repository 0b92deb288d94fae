// ironledger node import FILE.csv: bulk enroll. All rows are checked first (the file itself, then
// names, UUIDs and MACs against the service); only then is each row applied, node then ports,
// and a row whose port fails has its node deleted again, so no row is ever left half-applied.
import { readFileSync } from "node:fs"
import * as E from "fp-ts/lib/Either.js"
import { UsageError } from "../args.ts"
import { ApiError, enc, type Client } from "../client.ts"
import { noMorePositionals, positional, type Command } from "../command.ts"
import { bmcKey, type BmcSetting } from "../bmc-settings.ts"
import { parseImportCsv, type ImportRow, type RowError } from "../csv.ts"
import { table } from "../output.ts"

export class ImportRefused extends Error {}

const report = (file: string, errors: ReadonlyArray<RowError>) =>
  errors.map((e) => `${file}:${e.line}: ${e.message}`).join("\n")

const exists = async (client: Client, path: string): Promise<boolean> => {
  try {
    await client.get(path)
    return true
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return false
    throw e
  }
}

const columnOf: Record<BmcSetting, string> = { address: "bmc_address", port: "bmc_port", username: "bmc_user", password: "bmc_password" }

/**
 * Each row's bmc_* cells under the driver_info keys its hardware type names for them, read from
 * the service (`GET /v1/drivers/NAME/properties`): an unknown type, a type without such a setting,
 * or a required address left empty is an error on that row's line.
 */
const placeBmcSettings = async (client: Client, rows: ReadonlyArray<ImportRow>): Promise<{ rows: Array<ImportRow>; errors: Array<RowError> }> => {
  const propertiesOf = new Map<string, Record<string, string> | null>()
  const errors: Array<RowError> = []
  const placed: Array<ImportRow> = []
  for (const row of rows) {
    const driver = row.node.driver
    if (!propertiesOf.has(driver)) {
      propertiesOf.set(driver, await client.get<Record<string, string>>(`/v1/drivers/${enc(driver)}/properties`).catch((e) => {
        if (e instanceof ApiError && e.status === 404) return null
        throw e
      }))
    }
    const properties = propertiesOf.get(driver)!
    if (properties === null) {
      errors.push({ line: row.line, message: `driver "${driver}": the service has no such hardware type` })
      continue
    }
    const names = Object.keys(properties)
    const driverInfo = { ...row.node.driver_info }
    for (const [setting, value] of Object.entries(row.bmc) as Array<[BmcSetting, string | number]>) {
      const key = bmcKey(names, setting)
      if (key === undefined) errors.push({ line: row.line, message: `${columnOf[setting]}: the ${driver} hardware type has no such setting` })
      else driverInfo[key] = value
    }
    const address = bmcKey(names, "address")
    if (address !== undefined && /Required\.$/.test(properties[address]!) && driverInfo[address] === undefined) {
      errors.push({ line: row.line, message: `a ${driver} node needs bmc_address` })
    }
    placed.push({ ...row, node: { ...row.node, driver_info: driverInfo } })
  }
  return { rows: placed, errors }
}

/** The rows checked against what the service already holds. */
const checkAgainstService = async (client: Client, rows: ReadonlyArray<ImportRow>): Promise<Array<RowError>> => {
  const errors: Array<RowError> = []
  for (const row of rows) {
    if (await exists(client, `/v1/nodes/${enc(row.node.name)}?fields=uuid`)) {
      errors.push({ line: row.line, message: `a node named ${row.node.name} already exists` })
    }
    if (row.node.uuid !== undefined && await exists(client, `/v1/nodes/${row.node.uuid}?fields=uuid`)) {
      errors.push({ line: row.line, message: `a node with UUID ${row.node.uuid} already exists` })
    }
    for (const mac of row.macs) {
      const { ports } = await client.get<{ ports: Array<unknown> }>(`/v1/ports?address=${enc(mac)}`)
      if (ports.length > 0) errors.push({ line: row.line, message: `a port with MAC ${mac} already exists` })
    }
  }
  return errors
}

interface Created {
  readonly line: number
  readonly name: string
  readonly uuid: string
  readonly ports: number
}

const applyRow = async (client: Client, row: ImportRow): Promise<Created> => {
  const node = await client.request<{ uuid: string }>("POST", "/v1/nodes", row.node)
  try {
    for (const mac of row.macs) await client.request("POST", "/v1/ports", { address: mac, node_uuid: node.uuid })
  } catch (e) {
    // Deleting the node takes its ports with it: the row leaves nothing behind.
    await client.request("DELETE", `/v1/nodes/${node.uuid}`).catch(() => undefined)
    throw e
  }
  return { line: row.line, name: row.node.name, uuid: node.uuid, ports: row.macs.length }
}

export const importCommand: Command = {
  words: ["node", "import"],
  usage: "node import FILE.csv   (columns: name,macs[,uuid,driver,bmc_address,bmc_port,bmc_user,bmc_password,deploy_kernel,deploy_ramdisk,cpus,memory_mb,local_gb,cpu_arch,driver_info.K,properties.K,instance_info.K,extra.K])",
  description: "Bulk-enroll nodes and their ports from a CSV file. Every row is checked first; an error names its line and nothing is imported.",
  examples: ["node import rack1.csv", "node import rack1.csv --json"],
  options: {},
  run: async (args, env) => {
    const file = positional(args, 0, "FILE.csv")
    noMorePositionals(args, 1)
    let text: string
    try {
      text = readFileSync(file, "utf8")
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as Error).message}`)
    }
    const parsed = parseImportCsv(text)
    if (E.isLeft(parsed)) throw new ImportRefused(`${report(file, parsed.left)}\nnothing was imported`)
    const client = env.client()
    const placed = await placeBmcSettings(client, parsed.right)
    const clashes = [...placed.errors, ...await checkAgainstService(client, placed.rows)].sort((a, b) => a.line - b.line)
    if (clashes.length > 0) throw new ImportRefused(`${report(file, clashes)}\nnothing was imported`)
    const created: Array<Created> = []
    for (const row of placed.rows) {
      try {
        created.push(await applyRow(client, row))
      } catch (e) {
        const done = created.length === 0 ? "no row was imported"
          : `rows imported before it: ${created.map((c) => `${c.name} (line ${c.line})`).join(", ")}`
        throw new ImportRefused(`${file}:${row.line}: ${(e as Error).message}; the row was rolled back; ${done}`)
      }
    }
    table(env.out, [["Line", "line"], ["Name", "name"], ["UUID", "uuid"], ["Ports", "ports"]], created)
    env.note(`imported ${created.length} node(s) from ${file}`)
  },
}
