// /v1/nodes/{id}/bios (Ironic 1.40) and /v1/nodes/{id}/firmware (Ironic 1.86): what the node's BMC
// last reported, as recorded in the node's log after verify and after BIOS and firmware steps.
// Firmware versions are followed through every report: the first seen is the initial version.
import type { HistoryEntry } from "../../../application/node-service.ts"
import { ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { notFound } from "../errors.ts"
import { maxLimit } from "../query.ts"
import type { BiosRegistryEntry } from "../../../domain/index.ts"
import { pickFields } from "../node-json.ts"
import { BIOS_REGISTRY_VERSION, biosListFields, registryFieldsOf } from "./bios-registry.ts"

export const BIOS_VERSION = 40
export const FIRMWARE_VERSION = 86

/** Every entry of these types in the node's log, oldest first. */
const entriesOf = async (ctx: RequestContext, nodeUuid: string, type: string): Promise<ReadonlyArray<HistoryEntry>> => {
  const all: HistoryEntry[] = []
  for (let after: number | undefined; ;) {
    const page = await run(ctx.service.history(nodeUuid, { limit: maxLimit, filter: { types: [type] }, ...(after === undefined ? {} : { afterRevision: after }) }))
    all.push(...page)
    if (page.length < maxLimit) return all
    after = page.at(-1)!.revision
  }
}

const gated = (min: number, handle: (ctx: RequestContext) => Promise<Reply>) => async (ctx: RequestContext): Promise<Reply> => {
  // As Ironic: a resource newer than the version asked for does not exist for that client.
  if (ctx.version < min) throw notFound(`The resource could not be found (needs API version 1.${min}).`)
  return handle(ctx)
}

interface Setting { readonly name: string; readonly value: string | null; readonly registry?: BiosRegistryEntry }

const biosOf = async (ctx: RequestContext) => {
  const node = await run(ctx.service.get(ctx.params["node"]!))
  const last = (await entriesOf(ctx, node.uuid, "BiosSettingsCached")).at(-1)
  const settings = (last?.data["settings"] ?? []) as ReadonlyArray<Setting>
  const doc = (s: Setting) => ({
    name: s.name, value: s.value, created_at: last!.occurredAt, updated_at: null,
    // API 1.74: the BMC's attribute registry says what the setting may be (null: no registry).
    ...(ctx.version >= BIOS_REGISTRY_VERSION ? registryFieldsOf(s.registry) : {}),
    links: [
      { href: `${ctx.base}/v1/nodes/${node.uuid}/bios/${encodeURIComponent(s.name)}`, rel: "self" },
      { href: `${ctx.base}/nodes/${node.uuid}/bios/${encodeURIComponent(s.name)}`, rel: "bookmark" },
    ],
  })
  return { node, settings, doc }
}

const listBios = gated(BIOS_VERSION, async (ctx) => {
  const { settings, doc } = await biosOf(ctx)
  const fields = biosListFields(ctx)
  return ok({ bios: settings.map((s) => pickFields(doc(s), fields, new Set(Object.keys(doc(s))))) })
})

const oneBios = gated(BIOS_VERSION, async (ctx) => {
  const { node, settings, doc } = await biosOf(ctx)
  const name = ctx.params["name"]!
  const found = settings.find((s) => s.name === name)
  if (found === undefined) throw notFound(`Node ${node.uuid} has no BIOS setting ${name.slice(0, 80)}.`)
  return ok({ [name]: doc(found) })
})

const firmwareOf = async (ctx: RequestContext) => {
  const node = await run(ctx.service.get(ctx.params["node"]!))
  const seen = new Map<string, { component: string; initial_version: string; current_version: string; last_version_flashed: string | null; created_at: string; updated_at: string | null }>()
  for (const e of await entriesOf(ctx, node.uuid, "FirmwareComponentsCached")) {
    for (const c of (e.data["components"] ?? []) as ReadonlyArray<{ component: string; version: string }>) {
      const before = seen.get(c.component)
      if (before === undefined) {
        seen.set(c.component, { component: c.component, initial_version: c.version, current_version: c.version, last_version_flashed: null, created_at: e.occurredAt, updated_at: null })
      } else if (before.current_version !== c.version) {
        seen.set(c.component, { ...before, current_version: c.version, last_version_flashed: c.version, updated_at: e.occurredAt })
      }
    }
  }
  return ok({ firmware: [...seen.values()] })
}

const listFirmware = gated(FIRMWARE_VERSION, firmwareOf)

export const biosRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/nodes/:node/bios", access: "read", handle: listBios },
  { method: "GET", pattern: "/v1/nodes/:node/bios/:name", access: "read", handle: oneBios },
  { method: "GET", pattern: "/v1/nodes/:node/firmware", access: "read", handle: listFirmware },
  // ironledger's own path to the same list, at every API version: Ironic's needs 1.86, above the
  // version this service advertises, so no negotiating client could reach it (ADR 0041).
  { method: "GET", pattern: "/v1/nodes/:node/firmware_components", access: "read", handle: firmwareOf },
]
