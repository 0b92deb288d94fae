// ironledger instance spawn|list|show|reboot|rebuild|destroy|history and ironledger resources:
// a node as Nova's Ironic driver sees it. Each step is a public API call, so a Nova-like client
// can do the same: an allocation picks the node (its UUID is the instance's), the instance's
// image goes into instance_info, and a deploy with the config drive makes it run.
import { randomUUID } from "node:crypto"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { UsageError } from "../args.ts"
import { enc } from "../client.ts"
import { noMorePositionals, positional, type Command, type Env } from "../command.ts"
import { record, table } from "../output.ts"
import { waitFor } from "../wait.ts"

type Doc = Record<string, unknown>

/** --flavor cpus=4,memory_mb=8192,local_gb=40[,cpu_arch=x86_64] */
export const parseFlavor = (raw: string): Record<string, number | string> => {
  const flavor: Record<string, number | string> = {}
  for (const part of raw.split(",")) {
    const [key, value, ...more] = part.split("=")
    if (value === undefined || more.length > 0 || value === "") throw new UsageError(`--flavor: "${part}" is not key=value`)
    if (key === "cpu_arch") flavor[key] = value
    else if (key === "cpus" || key === "memory_mb" || key === "local_gb") {
      if (!/^\d{1,9}$/.test(value)) throw new UsageError(`--flavor: ${key} must be a whole number`)
      flavor[key] = Number(value)
    } else throw new UsageError(`--flavor: unknown key "${key}" (cpus, memory_mb, local_gb, cpu_arch)`)
  }
  for (const key of ["cpus", "memory_mb", "local_gb"]) if (flavor[key] === undefined) throw new UsageError(`--flavor needs ${key}`)
  return flavor
}

/** A config drive in its JSON form: a directory laid out as openstack/latest/{meta_data,user_data,network_data}. */
const configDriveOf = (env: Env, instance: string, dir: string | undefined, userDataFile: string | undefined): Doc | undefined => {
  if (dir === undefined && userDataFile === undefined) return undefined
  const meta: Doc = { uuid: instance }
  const drive: Doc = { meta_data: meta }
  if (dir !== undefined) {
    const latest = join(dir, "openstack", "latest")
    const root = statSync(latest, { throwIfNoEntry: false })?.isDirectory() ? latest : dir
    const names = new Set(readdirSync(root))
    if (names.has("meta_data.json")) Object.assign(meta, JSON.parse(readFileSync(join(root, "meta_data.json"), "utf8")), { uuid: instance })
    if (names.has("network_data.json")) drive["network_data"] = JSON.parse(readFileSync(join(root, "network_data.json"), "utf8"))
    if (names.has("user_data")) drive["user_data"] = readFileSync(join(root, "user_data"), "utf8")
  }
  if (userDataFile !== undefined) drive["user_data"] = readFileSync(userDataFile, "utf8")
  env.note(`config drive: meta_data${drive["user_data"] === undefined ? "" : ", user_data"}${drive["network_data"] === undefined ? "" : ", network_data"}`)
  return drive
}

/** The node carrying an instance, as Nova's driver finds it. */
const nodeOf = async (env: Env, instance: string): Promise<Doc> => {
  const found = await env.client().get<{ nodes: Array<Doc> }>(`/v1/nodes/detail?instance_uuid=${enc(instance)}`)
  const node = found.nodes[0]
  if (node === undefined) throw new UsageError(`no node carries instance ${instance}`)
  return node
}

const spawn: Command = {
  words: ["instance", "spawn"],
  usage: "instance spawn --flavor cpus=N,memory_mb=N,local_gb=N[,cpu_arch=A] --image SRC [--resource-class RC] [--node NODE] [--name NAME] [--config-drive DIR|--user-data FILE] [--uuid UUID] [--wait [SECONDS]]",
  description: "Start an instance as Nova would: allocate a free node matching the flavor (or the node given), set its instance_uuid and image, deploy it, optionally with a config drive.",
  examples: ["instance spawn --flavor cpus=4,memory_mb=8192,local_gb=40 --image file:///images/debian.qcow2 --wait", "instance spawn --flavor cpus=2,memory_mb=4096,local_gb=20,cpu_arch=x86_64 --image http://images/web.qcow2 --node rack1-07 --user-data cloud-init.yaml"],
  options: { uuid: "string", flavor: "string", image: "string", "resource-class": "string", node: "string", name: "string", "config-drive": "string", "user-data": "string", wait: "optional-number" },
  run: async (args, env) => {
    noMorePositionals(args, 0)
    const rawFlavor = args.strings["flavor"]
    const image = args.strings["image"]
    if (rawFlavor === undefined || image === undefined) throw new UsageError("instance spawn needs --flavor and --image")
    if (args.strings["config-drive"] !== undefined && args.strings["user-data"] !== undefined) throw new UsageError("give --config-drive DIR or --user-data FILE, not both")
    const flavor = parseFlavor(rawFlavor)
    // Nova names the instance; a rescheduled instance keeps its UUID on its next node.
    const instance = args.strings["uuid"] ?? randomUUID()
    const drive = configDriveOf(env, instance, args.strings["config-drive"], args.strings["user-data"])
    const api = env.client()
    const allocation = await api.request<Doc>("POST", "/v1/allocations", {
      uuid: instance,
      properties: flavor,
      ...(args.strings["resource-class"] === undefined ? {} : { resource_class: args.strings["resource-class"] }),
      ...(args.strings["name"] === undefined ? {} : { name: args.strings["name"] }),
      ...(args.strings["node"] === undefined ? {} : { candidate_nodes: [args.strings["node"]] }),
    })
    if (allocation["state"] !== "active") throw new UsageError(`no node for the instance: ${String(allocation["last_error"])}`)
    const node = String(allocation["node_uuid"])
    env.note(`instance ${instance}: node ${node}`)
    try {
      await api.request("PATCH", `/v1/nodes/${node}`, [
        { op: "add", path: "/instance_info/image_source", value: image },
        { op: "add", path: "/instance_info/root_gb", value: flavor["local_gb"] },
        ...(args.strings["name"] === undefined ? [] : [{ op: "add", path: "/instance_info/display_name", value: args.strings["name"] }]),
      ])
      await api.request("PUT", `/v1/nodes/${node}/states/provision`, { target: "active", ...(drive === undefined ? {} : { configdrive: drive }) })
    } catch (e) {
      // Nothing was deployed: give the node back.
      await api.request("DELETE", `/v1/allocations/${instance}`).catch(() => undefined)
      throw e
    }
    if ("wait" in args.numbers) await waitFor(env, node, "active", args.numbers["wait"] ?? 0)
    if (env.out.json) return env.out.write(`${JSON.stringify({ instance_uuid: instance, node_uuid: node }, null, 2)}\n`)
    record(env.out, { instance_uuid: instance, node_uuid: node }, [])
  },
}

const columns = [["Instance", "instance_uuid"], ["Node", "name"], ["Provision state", "provision_state"], ["Power state", "power_state"]] as const

const list: Command = {
  words: ["instance", "list"],
  usage: "instance list",
  description: "List instances: every node with an instance_uuid, with its node, states and power.",
  examples: ["instance list", "instance list --json"],
  options: {},
  run: async (args, env) => {
    noMorePositionals(args, 0)
    const found = await env.client().get<{ nodes: Array<Doc> }>("/v1/nodes/detail?associated=true")
    if (env.out.json) return env.out.write(`${JSON.stringify(found.nodes.map((n) => ({ instance_uuid: n["instance_uuid"], node_uuid: n["uuid"], name: n["name"], provision_state: n["provision_state"], power_state: n["power_state"] })), null, 2)}\n`)
    table(env.out, columns, found.nodes.map((n) => ({ ...n, name: n["name"] ?? n["uuid"] })))
  },
}

const show: Command = {
  words: ["instance", "show"],
  usage: "instance show INSTANCE",
  description: "One instance as Nova's driver sees it (get_info): power state, node, provision state and the node's resources.",
  examples: ["instance show 5f0c1d5e-8a31-4c55-9a43-77c2f0a1b2c3"],
  options: {},
  run: async (args, env) => {
    const instance = positional(args, 0, "INSTANCE")
    noMorePositionals(args, 1)
    const n = await nodeOf(env, instance)
    const p = (n["properties"] ?? {}) as Doc
    // Nova's get_info: the power state and what the instance has.
    const info = {
      instance_uuid: instance, node_uuid: n["uuid"], node: n["name"], power_state: n["power_state"], provision_state: n["provision_state"],
      cpus: p["cpus"] ?? null, memory_mb: p["memory_mb"] ?? null, local_gb: p["local_gb"] ?? null, cpu_arch: p["cpu_arch"] ?? null,
      image_source: (n["instance_info"] as Doc | undefined)?.["image_source"] ?? null, last_error: n["last_error"],
    }
    if (env.out.json) return env.out.write(`${JSON.stringify(info, null, 2)}\n`)
    record(env.out, info, [])
  },
}

/** What an instance action did: a line on stderr, or a JSON document with --json. */
const done = (env: Env, instance: string, node: string, what: string) => {
  if (env.out.json) env.out.write(`${JSON.stringify({ instance_uuid: instance, node_uuid: node, result: what }, null, 2)}\n`)
  else env.note(`instance ${instance}: ${what} on node ${node}`)
}

const reboot: Command = {
  words: ["instance", "reboot"],
  usage: "instance reboot INSTANCE",
  description: "Reboot the node an instance runs on.",
  examples: ["instance reboot 5f0c1d5e-8a31-4c55-9a43-77c2f0a1b2c3"],
  options: {},
  run: async (args, env) => {
    const instance = positional(args, 0, "INSTANCE")
    noMorePositionals(args, 1)
    const n = await nodeOf(env, instance)
    await env.client().request("PUT", `/v1/nodes/${n["uuid"]}/states/power`, { target: "rebooting" })
    done(env, instance, String(n["uuid"]), "reboot requested")
  },
}

const rebuild: Command = {
  words: ["instance", "rebuild"],
  usage: "instance rebuild INSTANCE [--image SRC] [--preserve-ephemeral] [--wait [SECONDS]]",
  description: "Rebuild an instance on its node with its image or a new one; --preserve-ephemeral keeps the ephemeral partition for this rebuild only.",
  examples: ["instance rebuild 5f0c1d5e-8a31-4c55-9a43-77c2f0a1b2c3 --preserve-ephemeral --wait"],
  options: { image: "string", "preserve-ephemeral": "flag", wait: "optional-number" },
  run: async (args, env) => {
    const instance = positional(args, 0, "INSTANCE")
    noMorePositionals(args, 1)
    const n = await nodeOf(env, instance)
    const node = String(n["uuid"])
    const ops = [
      ...(args.strings["image"] === undefined ? [] : [{ op: "add", path: "/instance_info/image_source", value: args.strings["image"] }]),
      ...(args.flags.has("preserve-ephemeral") ? [{ op: "add", path: "/instance_info/preserve_ephemeral", value: true }] : []),
    ]
    if (ops.length > 0) await env.client().request("PATCH", `/v1/nodes/${node}`, ops)
    await env.client().request("PUT", `/v1/nodes/${node}/states/provision`, { target: "rebuild" })
    if ("wait" in args.numbers) await waitFor(env, node, "active", args.numbers["wait"] ?? 0)
    done(env, instance, node, "wait" in args.numbers ? "rebuilt" : "rebuild requested")
  },
}

const destroy: Command = {
  words: ["instance", "destroy"],
  usage: "instance destroy INSTANCE [--wait [SECONDS]]",
  description: "Tear an instance down: undeploy its node (cleaning as configured) and free the allocation.",
  examples: ["instance destroy 5f0c1d5e-8a31-4c55-9a43-77c2f0a1b2c3 --wait"],
  options: { wait: "optional-number" },
  run: async (args, env) => {
    const instance = positional(args, 0, "INSTANCE")
    noMorePositionals(args, 1)
    const n = await nodeOf(env, instance)
    const node = String(n["uuid"])
    if (["active", "deploy failed", "rescue", "rescue failed", "wait call-back"].includes(String(n["provision_state"]))) {
      // Tear down frees the node's allocation and instance_uuid, as in Ironic.
      await env.client().request("PUT", `/v1/nodes/${node}/states/provision`, { target: "deleted" })
      if ("wait" in args.numbers) await waitFor(env, node, "available", args.numbers["wait"] ?? 0)
    } else if (n["allocation_uuid"] !== null) {
      await env.client().request("DELETE", `/v1/allocations/${enc(String(n["allocation_uuid"]))}`)
    } else {
      await env.client().request("PATCH", `/v1/nodes/${node}`, [{ op: "remove", path: "/instance_uuid" }])
    }
    done(env, instance, node, "destroyed")
  },
}

const history: Command = {
  words: ["instance", "history"],
  usage: "instance history INSTANCE",
  description: "An instance's life across every node it lived on, from the log.",
  examples: ["instance history 5f0c1d5e-8a31-4c55-9a43-77c2f0a1b2c3"],
  options: {},
  run: async (args, env) => {
    const instance = positional(args, 0, "INSTANCE")
    noMorePositionals(args, 1)
    await printInstanceHistory(env, instance)
  },
}

/** An instance's life across nodes (also `ironledger history --instance U`). */
export const printInstanceHistory = async (env: Env, instance: string) => {
  const found = await env.client().get<{ history: Array<Doc> }>(`/v1/instances/${enc(instance)}/history`)
  if (env.out.json) return env.out.write(`${JSON.stringify(found.history, null, 2)}\n`)
  table(env.out, [["At", "created_at"], ["Node", "node_uuid"], ["Type", "type"], ["State", "provision_state"], ["Summary", "event"]], found.history)
}

const free = (n: Doc) =>
  n["provision_state"] === "available" && n["maintenance"] === false && n["instance_uuid"] === null && n["retired"] !== true

const resources: Command = {
  words: ["resources"],
  usage: "resources",
  description: "What the fleet can still offer (Nova's get_available_resource): free nodes, cpus, memory and disk by resource class.",
  examples: ["resources", "resources --json"],
  options: {},
  run: async (args, env) => {
    noMorePositionals(args, 0)
    // Nova's get_available_resource over the fleet: what is free, by resource class.
    const { nodes } = await env.client().get<{ nodes: Array<Doc> }>("/v1/nodes/detail")
    const byClass = new Map<string, { resource_class: string; nodes: number; free: number; cpus: number; memory_mb: number; local_gb: number }>()
    for (const n of nodes) {
      const rc = String(n["resource_class"] ?? "(none)")
      const row = byClass.get(rc) ?? { resource_class: rc, nodes: 0, free: 0, cpus: 0, memory_mb: 0, local_gb: 0 }
      row.nodes++
      if (free(n)) {
        const p = (n["properties"] ?? {}) as Doc
        row.free++
        row.cpus += Number(p["cpus"] ?? 0) || 0
        row.memory_mb += Number(p["memory_mb"] ?? 0) || 0
        row.local_gb += Number(p["local_gb"] ?? 0) || 0
      }
      byClass.set(rc, row)
    }
    const rows = [...byClass.values()].sort((a, b) => a.resource_class.localeCompare(b.resource_class))
    if (env.out.json) return env.out.write(`${JSON.stringify(rows, null, 2)}\n`)
    table(env.out, [["Resource class", "resource_class"], ["Nodes", "nodes"], ["Free", "free"], ["Free cpus", "cpus"], ["Free memory_mb", "memory_mb"], ["Free local_gb", "local_gb"]], rows)
  },
}

export const instanceCommands: ReadonlyArray<Command> = [spawn, list, show, reboot, rebuild, destroy, history, resources]
