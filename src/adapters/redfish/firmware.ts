// Firmware over Redfish: versions as Ironic reads them (the system's BiosVersion, its manager's
// FirmwareVersion); updates through UpdateService.SimpleUpdate, waited on through the task the BMC
// returns, and running after the reboot the step asks for.
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { Act, FirmwareComponent, FirmwareInterface } from "../../application/hardware/interfaces.ts"
import type { StepSpec } from "../../application/hardware/steps.ts"
import type { NodeState } from "../../domain/index.ts"
import type { RedfishClient } from "./client.ts"
import { checkInfo, properties, validate, type RedfishBmc } from "./settings.ts"
import { actionTarget, linkOf, systemOf } from "./system.ts"

const components = ["bios", "bmc"] as const

const requestedUpdates = (args: Readonly<Record<string, unknown>>): ReadonlyArray<{ component: string; url: string }> | string => {
  const settings = args["settings"]
  if (!Array.isArray(settings) || settings.length === 0) return "firmware.update needs settings: a non-empty list of {component, url}."
  for (const s of settings) {
    const c = (s as { component?: unknown } | null)?.component
    const url = (s as { url?: unknown } | null)?.url
    if (typeof c !== "string" || !(components as ReadonlyArray<string>).includes(c)) return `firmware.update: component must be one of ${components.join(", ")}, got ${JSON.stringify(c)}.`
    if (typeof url !== "string" || !/^https?:\/\//.test(url)) return `firmware.update: url must be an http(s) URL the BMC can fetch, got ${JSON.stringify(url)}.`
  }
  return settings as ReadonlyArray<{ component: string; url: string }>
}

export const redfishFirmware = (client: RedfishClient, options: { readonly taskTimeoutMs?: number } = {}): FirmwareInterface => {
  const taskTimeoutMs = options.taskTimeoutMs ?? 20 * 60_000

  /** Polls a task until it ends; a task that ends in Exception fails with its messages. */
  const waitForTask = (bmc: RedfishBmc, path: string) =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      for (;;) {
        const task = yield* client.get(bmc, path)
        const state = task["TaskState"]
        const messages = Array.isArray(task["Messages"]) ? task["Messages"].map((m) => (m as { Message?: unknown }).Message).filter((m) => typeof m === "string").join("; ") : ""
        if (state === "Completed") return messages
        if (state === "Exception" || state === "Killed" || state === "Cancelled") return yield* Effect.fail({ message: `the BMC's update task ${path} ended ${state}: ${messages}` })
        if ((yield* Clock.currentTimeMillis) - started > taskTimeoutMs) return yield* Effect.fail({ message: `the BMC's update task ${path} still reads ${String(state)} after ${taskTimeoutMs} ms` })
        yield* Effect.sleep("1 second")
      }
    })

  const read = (n: NodeState): Act<ReadonlyArray<FirmwareComponent>> =>
    Effect.gen(function* () {
      const s = yield* systemOf(client, n)
      const found: FirmwareComponent[] = []
      if (typeof s.system["BiosVersion"] === "string") found.push({ component: "bios", version: s.system["BiosVersion"] })
      const manager = linkOf(s.system, "Links", "ManagedBy")
      if (manager !== null) {
        const version = (yield* client.get(s.bmc, manager))["FirmwareVersion"]
        if (typeof version === "string") found.push({ component: "bmc", version })
      }
      return found
    })

  const update: StepSpec = {
    name: "update", where: "out-of-band", priority: 0, rebootAfter: true,
    description: "Flashes firmware images through the BMC's UpdateService.SimpleUpdate; they run after the reboot that follows.",
    args: { settings: { description: "A list of {component: bios|bmc, url}: the images, at URLs the BMC can fetch.", required: true } },
    run: (n, args) => Effect.gen(function* () {
      const wanted = requestedUpdates(args)
      if (typeof wanted === "string") return yield* Effect.fail({ message: wanted })
      const s = yield* systemOf(client, n)
      const service = yield* client.get(s.bmc, "/redfish/v1/UpdateService")
      const target = yield* actionTarget(service, "#UpdateService.SimpleUpdate", "/redfish/v1/UpdateService")
      const done: Array<{ component: string; url: string; task: string }> = []
      for (const w of wanted) {
        const r = yield* client.send(s.bmc, "POST", target, {
          ImageURI: w.url, Targets: [s.path], TransferProtocol: w.url.startsWith("https:") ? "HTTPS" : "HTTP",
        })
        const task = r.location === null ? "accepted" : yield* waitForTask(s.bmc, r.location)
        done.push({ component: w.component, url: w.url, task })
      }
      return { summary: `${done.length} firmware image(s) flashed; they run after the reboot`, details: { updates: done } }
    }),
  }

  return {
    slot: "firmware", name: "redfish", description: "Redfish: firmware versions and UpdateService.SimpleUpdate.",
    properties, checkInfo, validate, components: read, steps: [update],
  }
}
