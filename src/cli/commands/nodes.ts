// ironledger node enroll|list|show|set|unset|delete|validate
import { readFile } from "node:fs/promises"
import { keyValues, UsageError, type Parsed } from "../args.ts"
import { enc } from "../client.ts"
import { noMorePositionals, positional, type Command, type Env } from "../command.ts"
import { record, table } from "../output.ts"
import { readSecretsFile, refuseSecretsOnArgv } from "../secrets.ts"

type Doc = Record<string, unknown>

const listColumns = [
  ["UUID", "uuid"], ["Name", "name"], ["Instance UUID", "instance_uuid"], ["Power State", "power_state"],
  ["Provisioning State", "provision_state"], ["Maintenance", "maintenance"],
] as const

/** driver_info from --driver-info (no secrets) merged with --secrets-file. */
const driverInfoOf = (args: Parsed): Record<string, string> => {
  const plain = keyValues(args.lists["driver-info"] ?? [], "driver-info")
  refuseSecretsOnArgv(plain, "driver-info")
  const file = args.strings["secrets-file"]
  return { ...plain, ...(file === undefined ? {} : readSecretsFile(file)) }
}

/** A "42" from the command line is meant as a number in properties (cpus, memory_mb, local_gb). */
const typed = (pairs: Record<string, string>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(pairs).map(([k, v]) => [k, /^\d{1,15}$/.test(v) ? Number(v) : v]))

const enroll: Command = {
  words: ["node", "enroll"],
  usage: "node enroll --driver TYPE (ipmi, fake-hardware, sim, ...: see driver list in the API) [--name NAME] [--uuid UUID] [--driver-info K=V]... [--secrets-file FILE] [--property K=V]... [--instance-info K=V]... [--extra K=V]...",
  description: "Enroll a node (it starts in enroll). BMC passwords go in a --secrets-file, never on the command line.",
  examples: ["node enroll --driver fake-hardware --name lab-01", "node enroll --driver ipmi --name rack1-07 --driver-info ipmi_address=10.0.0.7 --secrets-file rack1-07.secrets --property cpus=8"],
  options: {
    driver: "string", name: "string", uuid: "string", "driver-info": "list", "secrets-file": "string",
    property: "list", "instance-info": "list", extra: "list",
  },
  run: async (args, env) => {
    noMorePositionals(args, 0)
    const driver = args.strings["driver"]
    if (driver === undefined) throw new UsageError("--driver is required")
    const body: Doc = {
      driver,
      driver_info: driverInfoOf(args),
      properties: typed(keyValues(args.lists["property"] ?? [], "property")),
      instance_info: keyValues(args.lists["instance-info"] ?? [], "instance-info"),
      extra: keyValues(args.lists["extra"] ?? [], "extra"),
      ...(args.strings["name"] === undefined ? {} : { name: args.strings["name"] }),
      ...(args.strings["uuid"] === undefined ? {} : { uuid: args.strings["uuid"] }),
    }
    record(env.out, await env.client().request<Doc>("POST", "/v1/nodes", body))
  },
}

const list: Command = {
  words: ["node", "list"],
  usage: "node list [--provision-state S] [--maintenance true|false] [--driver D] [--associated true|false] [--limit N] [--long]",
  description: "List nodes, optionally only those in a provision state, in maintenance, of a driver or with an instance.",
  examples: ["node list", "node list --provision-state active --long", "node list --maintenance true --json"],
  options: { "provision-state": "string", maintenance: "string", driver: "string", associated: "string", limit: "string", long: "flag" },
  run: async (args, env) => {
    noMorePositionals(args, 0)
    const q = new URLSearchParams()
    for (const [opt, param] of [["provision-state", "provision_state"], ["maintenance", "maintenance"], ["driver", "driver"], ["associated", "associated"]] as const) {
      if (args.strings[opt] !== undefined) q.set(param, args.strings[opt])
    }
    const limit = args.strings["limit"] === undefined ? Infinity : Number(args.strings["limit"])
    if (Number.isNaN(limit) || limit < 1) throw new UsageError("--limit takes a positive number")
    const long = args.flags.has("long")
    const nodes = await collect(env, `/v1/nodes${long ? "/detail" : ""}`, q, "nodes", limit)
    table(env.out, long ? [...listColumns, ["Driver", "driver"], ["Last Error", "last_error"]] : listColumns, nodes)
  },
}

/** Follows `next` links until `limit` items (or the end). */
export const collect = async (env: Env, path: string, q: URLSearchParams, key: string, limit: number): Promise<Array<Doc>> => {
  const items: Array<Doc> = []
  if (Number.isFinite(limit)) q.set("limit", String(Math.min(limit, 1000)))
  let next: string | undefined = `${path}${q.size > 0 ? `?${q}` : ""}`
  while (next !== undefined && items.length < limit) {
    const page: Doc = await env.client().get<Doc>(next)
    items.push(...(page[key] as Array<Doc>))
    const link = page["next"]
    next = typeof link === "string" ? new URL(link).pathname + new URL(link).search : undefined
  }
  return items.slice(0, limit)
}

const show: Command = {
  words: ["node", "show"],
  usage: "node show NODE [--fields F1,F2]",
  description: "Show one node (by name or UUID), every field or only some.",
  examples: ["node show rack1-07", "node show rack1-07 --fields provision_state,power_state --json"],
  options: { fields: "string" },
  run: async (args, env) => {
    const node = positional(args, 0, "NODE")
    noMorePositionals(args, 1)
    const fields = args.strings["fields"]
    record(env.out, await env.client().get<Doc>(`/v1/nodes/${enc(node)}${fields === undefined ? "" : `?fields=${enc(fields)}`}`))
  },
}

const patchOf = (field: string, pairs: Record<string, unknown>) =>
  Object.entries(pairs).map(([k, value]) => ({ op: "add", path: `/${field}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`, value }))

/** As Ironic's client: the JSON itself, or a file holding it. */
const targetRaidConfigOf = async (value: string): Promise<unknown> => {
  const text = value.trimStart().startsWith("{") ? value : await readFile(value, "utf8").catch(() => { throw new UsageError(`--target-raid-config: ${value.slice(0, 80)} is neither JSON nor a readable file`) })
  try { return JSON.parse(text) } catch { throw new UsageError("--target-raid-config: not valid JSON") }
}

const set: Command = {
  words: ["node", "set"],
  usage: "node set NODE [--name NAME] [--driver D] [--driver-info K=V]... [--secrets-file FILE] [--property K=V]... [--instance-info K=V]... [--extra K=V]... [--target-raid-config JSON|FILE]",
  description: "Change a node's name, driver (its interfaces then take the new hardware type's defaults), driver_info, properties, instance_info, extra or target RAID configuration.",
  examples: ["node set rack1-07 --property memory_mb=65536 --extra rack=r1", "node set rack1-07 --secrets-file rack1-07.secrets"],
  options: {
    name: "string", driver: "string", "driver-info": "list", "secrets-file": "string",
    property: "list", "instance-info": "list", extra: "list", "target-raid-config": "string",
  },
  run: async (args, env) => {
    const node = positional(args, 0, "NODE")
    noMorePositionals(args, 1)
    const raid = args.strings["target-raid-config"]
    if (raid !== undefined) await env.client().request("PUT", `/v1/nodes/${enc(node)}/states/raid`, await targetRaidConfigOf(raid))
    const ops = [
      ...(args.strings["name"] === undefined ? [] : [{ op: "add", path: "/name", value: args.strings["name"] }]),
      ...(args.strings["driver"] === undefined ? [] : [{ op: "add", path: "/driver", value: args.strings["driver"] }]),
      ...patchOf("driver_info", driverInfoOf(args)),
      ...patchOf("properties", typed(keyValues(args.lists["property"] ?? [], "property"))),
      ...patchOf("instance_info", keyValues(args.lists["instance-info"] ?? [], "instance-info")),
      ...patchOf("extra", keyValues(args.lists["extra"] ?? [], "extra")),
    ]
    if (ops.length === 0 && raid === undefined) throw new UsageError("nothing to set")
    // This command names no interfaces: a new driver takes its hardware type's defaults (ADR 0107).
    const reset = args.strings["driver"] === undefined ? "" : "?reset_interfaces=true"
    record(env.out, ops.length === 0 ? await env.client().get<Doc>(`/v1/nodes/${enc(node)}`) : await env.client().request<Doc>("PATCH", `/v1/nodes/${enc(node)}${reset}`, ops))
  },
}

const unset: Command = {
  words: ["node", "unset"],
  usage: "node unset NODE [--name] [--driver-info KEY]... [--property KEY]... [--instance-info KEY]... [--extra KEY]...",
  description: "Remove a node's name or keys of its driver_info, properties, instance_info or extra.",
  examples: ["node unset rack1-07 --extra rack", "node unset rack1-07 --name"],
  options: { name: "flag", "driver-info": "list", property: "list", "instance-info": "list", extra: "list" },
  run: async (args, env) => {
    const node = positional(args, 0, "NODE")
    noMorePositionals(args, 1)
    const removals = (field: string, keys: ReadonlyArray<string>) =>
      keys.map((k) => ({ op: "remove", path: `/${field}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}` }))
    const ops = [
      ...(args.flags.has("name") ? [{ op: "remove", path: "/name" }] : []),
      ...removals("driver_info", args.lists["driver-info"] ?? []),
      ...removals("properties", args.lists["property"] ?? []),
      ...removals("instance_info", args.lists["instance-info"] ?? []),
      ...removals("extra", args.lists["extra"] ?? []),
    ]
    if (ops.length === 0) throw new UsageError("nothing to unset")
    record(env.out, await env.client().request<Doc>("PATCH", `/v1/nodes/${enc(node)}`, ops))
  },
}

const remove: Command = {
  words: ["node", "delete"],
  usage: "node delete NODE...",
  description: "Delete nodes (and their ports); their history stays in the log.",
  examples: ["node delete rack1-07", "node delete lab-01 lab-02 --json"],
  options: {},
  run: async (args, env) => {
    positional(args, 0, "NODE")
    const deleted: Array<{ node: string; deleted: true }> = []
    for (const node of args.positionals) {
      await env.client().request("DELETE", `/v1/nodes/${enc(node)}`)
      deleted.push({ node, deleted: true })
      if (!env.out.json) env.note(`Deleted node ${node}`)
    }
    if (env.out.json) env.out.write(`${JSON.stringify(deleted, null, 2)}\n`)
  },
}

const validate: Command = {
  words: ["node", "validate"],
  usage: "node validate NODE",
  description: "Check each of a node's interfaces (power, management, boot, deploy, ...) and say what is missing.",
  examples: ["node validate rack1-07", "node validate rack1-07 --json"],
  options: {},
  run: async (args, env) => {
    const node = positional(args, 0, "NODE")
    noMorePositionals(args, 1)
    const result = await env.client().get<Record<string, { result: boolean | null; reason: string | null }>>(`/v1/nodes/${enc(node)}/validate`)
    const rows = Object.entries(result).map(([iface, r]) => ({ interface: iface, result: r.result, reason: r.reason }))
    table(env.out, [["Interface", "interface"], ["Result", "result"], ["Reason", "reason"]], rows)
  },
}

export const nodeCommands: ReadonlyArray<Command> = [enroll, list, show, set, unset, remove, validate]
