// ironledger manage|provide|deploy|undeploy|rebuild|abort|inspect|clean|rescue|unrescue|adopt NODE
// [--wait [SECONDS]], power on|off|reboot|soft-off NODE, maintenance set|unset NODE.
import { readFileSync } from "node:fs"
import { UsageError, type Parsed } from "../args.ts"
import { enc } from "../client.ts"
import { noMorePositionals, positional, type Command } from "../command.ts"
import { record } from "../output.ts"
import { waitFor } from "../wait.ts"

interface Verb {
  readonly word: string
  readonly target: string
  /** The stable state a successful run ends in; null when it depends on where the node was. */
  readonly reaches: string | null
  readonly description: string
}

const verbs: ReadonlyArray<Verb> = [
  { word: "manage", target: "manage", reaches: "manageable", description: "Take an enrolled node under management: its BMC settings are verified (enroll -> verifying -> manageable)." },
  { word: "provide", target: "provide", reaches: "available", description: "Make a manageable node available for deployment, cleaning it first when automated cleaning is on." },
  { word: "deploy", target: "active", reaches: "active", description: "Write an image to an available node and boot it (available -> deploying -> wait call-back -> active), with the image given by --image or set before." },
  { word: "undeploy", target: "deleted", reaches: "available", description: "Tear down a deployed node: power off, clean, back to available." },
  { word: "rebuild", target: "rebuild", reaches: "active", description: "Deploy an active node again, with its image or a new one given by --image." },
  { word: "abort", target: "abort", reaches: null, description: "Stop what a node is waiting for (wait call-back, clean wait, ...); it ends in the matching failed state." },
  { word: "inspect", target: "inspect", reaches: "manageable", description: "Inspect a manageable node's hardware (CPUs, memory, disks, NICs) through its inspect interface." },
  { word: "clean", target: "clean", reaches: "manageable", description: "Clean a manageable node by hand, running --steps in order (default deploy.erase_devices_metadata: erase the disks' metadata)." },
  { word: "rescue", target: "rescue", reaches: "rescue", description: "Boot an active node into the rescue ramdisk, reachable with the password in --rescue-password-file." },
  { word: "unrescue", target: "unrescue", reaches: "active", description: "Bring a rescued node back to its deployed OS." },
  { word: "adopt", target: "adopt", reaches: "active", description: "Take a node that already runs a workload under management as active, without deploying it." },
]

/** deploy/rebuild may set the image first, so one command does what `node set` + `deploy` would. */
const imagePatch = (args: Parsed) => {
  const ops: Array<{ op: string; path: string; value: unknown }> = []
  const add = (key: string, value: unknown) => ops.push({ op: "add", path: `/instance_info/${key}`, value })
  if (args.strings["image"] !== undefined) add("image_source", args.strings["image"])
  // Ironic's rule, which ironledger follows: a kernel and ramdisk make it a partition image.
  if (args.strings["kernel"] !== undefined) add("kernel", args.strings["kernel"])
  if (args.strings["ramdisk"] !== undefined) add("ramdisk", args.strings["ramdisk"])
  for (const key of ["root-gb", "swap-mb", "ephemeral-gb"] as const) {
    const raw = args.strings[key]
    if (raw === undefined) continue
    if (!/^\d{1,9}$/.test(raw)) throw new UsageError(`--${key} takes a whole number`)
    add(key.replace("-", "_"), Number(raw))
  }
  if (args.flags.has("preserve-ephemeral")) add("preserve_ephemeral", true)
  return ops
}

/** "deploy.erase_devices,bios.factory_reset" as Ironic's clean_steps (steps with arguments: use the API). */
const cleanStepsOf = (raw: string) =>
  raw.split(",").map((name) => {
    const m = /^([a-z_]+)\.([a-z0-9_]+)$/.exec(name.trim())
    if (m === null) throw new UsageError(`--steps: "${name}" is not INTERFACE.STEP (e.g. deploy.erase_devices)`)
    return { interface: m[1], step: m[2] }
  })

const bodyFor = (verb: Verb, args: Parsed): Record<string, unknown> => {
  const body: Record<string, unknown> = { target: verb.target }
  if (verb.word === "clean") body["clean_steps"] = cleanStepsOf(args.strings["steps"] ?? "deploy.erase_devices_metadata")
  if (verb.word === "rescue") {
    const file = args.strings["rescue-password-file"]
    if (file === undefined) throw new UsageError("rescue needs --rescue-password-file FILE (the password never goes on the command line)")
    body["rescue_password"] = readFileSync(file, "utf8").trim()
  }
  return body
}

const provisionCommand = (verb: Verb): Command => {
  const deploying = verb.word === "deploy" || verb.word === "rebuild"
  return {
    words: [verb.word],
    usage: `${verb.word} NODE [--wait [SECONDS]]` +
      (deploying ? " [--image SRC [--kernel SRC --ramdisk SRC]] [--root-gb N] [--swap-mb N] [--ephemeral-gb N]" : "") +
      (verb.word === "rebuild" ? " [--preserve-ephemeral]" : "") +
      (verb.word === "rescue" ? " --rescue-password-file FILE" : "") +
      (verb.word === "clean" ? " [--steps INTERFACE.STEP,...]" : ""),
    description: `${verb.description} With --wait, it follows the node until it settles, showing each state and the time left.`,
    examples: [
      `${verb.word} rack1-07${verb.word === "rescue" ? " --rescue-password-file rescue.pass" : ""}`,
      verb.word === "deploy" ? "deploy rack1-07 --image http://images.lab/debian-12.qcow2 --wait 1800"
        : `${verb.word} rack1-07${verb.word === "rescue" ? " --rescue-password-file rescue.pass" : ""} --wait 600 --json`,
    ],
    options: {
      wait: "optional-number",
      ...(deploying ? { image: "string", kernel: "string", ramdisk: "string", "root-gb": "string", "swap-mb": "string", "ephemeral-gb": "string" } : {}),
      ...(verb.word === "rebuild" ? { "preserve-ephemeral": "flag" } : {}),
      ...(verb.word === "rescue" ? { "rescue-password-file": "string" } : {}),
      ...(verb.word === "clean" ? { steps: "string" } : {}),
    },
    run: async (args, env) => {
      const node = positional(args, 0, "NODE")
      noMorePositionals(args, 1)
      const body = bodyFor(verb, args)
      const patch = deploying ? imagePatch(args) : []
      if (patch.length > 0) await env.client().request("PATCH", `/v1/nodes/${enc(node)}`, patch)
      await env.client().request("PUT", `/v1/nodes/${enc(node)}/states/provision`, body)
      if ("wait" in args.numbers) {
        const final = await waitFor(env, node, verb.reaches, args.numbers["wait"] ?? 0)
        if (env.out.json) record(env.out, final)
        else env.note(`${node} is ${final["provision_state"]}`)
      } else if (env.out.json) {
        // For scripts: where the node is now and where it is heading.
        record(env.out, await env.client().get(`/v1/nodes/${enc(node)}?fields=uuid,name,provision_state,target_provision_state`))
      } else {
        env.note(`${verb.word} requested for ${node}`)
      }
    },
  }
}

const powerTargets: Record<string, string> = { on: "power on", off: "power off", reboot: "rebooting", "soft-off": "soft power off" }

const power: Command = {
  words: ["power"],
  usage: "power on|off|reboot|soft-off NODE",
  description: "Power a node on or off, reboot it, or ask its OS to shut down (soft-off).",
  examples: ["power off rack1-07", "power reboot rack1-07 --json"],
  options: {},
  run: async (args, env) => {
    const action = positional(args, 0, "on|off|reboot|soft-off")
    const node = positional(args, 1, "NODE")
    noMorePositionals(args, 2)
    const target = powerTargets[action]
    if (target === undefined) throw new UsageError(`power takes on, off, reboot or soft-off, not "${action}"`)
    await env.client().request("PUT", `/v1/nodes/${enc(node)}/states/power`, { target })
    if (env.out.json) record(env.out, await env.client().get(`/v1/nodes/${enc(node)}?fields=uuid,name,power_state,target_power_state`))
    else env.note(`power ${action} requested for ${node}`)
  },
}

const maintenance: Command = {
  words: ["maintenance"],
  usage: "maintenance set NODE [--reason TEXT] | maintenance unset NODE",
  description: "Put a node in maintenance (the conductor leaves it alone) with a reason, or take it out.",
  examples: ["maintenance set rack1-07 --reason \"fan replaced\"", "maintenance unset rack1-07"],
  options: { reason: "string" },
  run: async (args, env) => {
    const action = positional(args, 0, "set|unset")
    const node = positional(args, 1, "NODE")
    noMorePositionals(args, 2)
    if (action === "set") {
      await env.client().request("PUT", `/v1/nodes/${enc(node)}/maintenance`, { reason: args.strings["reason"] ?? null })
    } else if (action === "unset") {
      if (args.strings["reason"] !== undefined) throw new UsageError("--reason goes with maintenance set")
      await env.client().request("DELETE", `/v1/nodes/${enc(node)}/maintenance`)
    } else {
      throw new UsageError(`maintenance takes set or unset, not "${action}"`)
    }
    if (env.out.json) record(env.out, await env.client().get(`/v1/nodes/${enc(node)}?fields=uuid,name,maintenance,maintenance_reason`))
    else env.note(`maintenance ${action === "set" ? "on" : "off"} for ${node}`)
  },
}

export const provisionCommands: ReadonlyArray<Command> = [...verbs.map(provisionCommand), power, maintenance]
