// ironledger port add|list|show|delete
import { UsageError } from "../args.ts"
import { enc } from "../client.ts"
import { noMorePositionals, positional, type Command } from "../command.ts"
import { record, table } from "../output.ts"
import { collect } from "./nodes.ts"

type Doc = Record<string, unknown>

const add: Command = {
  words: ["port", "add"],
  usage: "port add MAC --node NODE",
  description: "Add a port (a MAC address the node boots from) to a node, given by name or UUID.",
  examples: ["port add 52:54:00:12:34:56 --node rack1-07"],
  options: { node: "string" },
  run: async (args, env) => {
    const mac = positional(args, 0, "MAC")
    noMorePositionals(args, 1)
    const ref = args.strings["node"]
    if (ref === undefined) throw new UsageError("--node is required")
    // The API takes a node UUID; a name is resolved first so people can use either.
    const node = await env.client().get<Doc>(`/v1/nodes/${enc(ref)}?fields=uuid`)
    record(env.out, await env.client().request<Doc>("POST", "/v1/ports", { address: mac, node_uuid: node["uuid"] }))
  },
}

const list: Command = {
  words: ["port", "list"],
  usage: "port list [--node NODE] [--address MAC]",
  description: "List ports, all or a node's, or find one by MAC address.",
  examples: ["port list --node rack1-07", "port list --address 52:54:00:12:34:56 --json"],
  options: { node: "string", address: "string" },
  run: async (args, env) => {
    noMorePositionals(args, 0)
    const q = new URLSearchParams()
    if (args.strings["node"] !== undefined) q.set("node", args.strings["node"])
    if (args.strings["address"] !== undefined) q.set("address", args.strings["address"])
    const ports = await collect(env, "/v1/ports/detail", q, "ports", Infinity)
    table(env.out, [["UUID", "uuid"], ["Address", "address"], ["Node UUID", "node_uuid"]], ports)
  },
}

const show: Command = {
  words: ["port", "show"],
  usage: "port show PORT",
  description: "Show one port by UUID.",
  examples: ["port show 5f0c3b1e-3a55-4c8e-9f53-2a4de0b6c1aa"],
  options: {},
  run: async (args, env) => {
    const port = positional(args, 0, "PORT")
    noMorePositionals(args, 1)
    record(env.out, await env.client().get<Doc>(`/v1/ports/${enc(port)}`))
  },
}

const remove: Command = {
  words: ["port", "delete"],
  usage: "port delete PORT...",
  description: "Delete ports by UUID.",
  examples: ["port delete 5f0c3b1e-3a55-4c8e-9f53-2a4de0b6c1aa"],
  options: {},
  run: async (args, env) => {
    positional(args, 0, "PORT")
    const deleted: Array<{ port: string; deleted: true }> = []
    for (const port of args.positionals) {
      await env.client().request("DELETE", `/v1/ports/${enc(port)}`)
      deleted.push({ port, deleted: true })
      if (!env.out.json) env.note(`Deleted port ${port}`)
    }
    if (env.out.json) env.out.write(`${JSON.stringify(deleted, null, 2)}\n`)
  },
}

export const portCommands: ReadonlyArray<Command> = [add, list, show, remove]
