// What the deploy ramdisk calls: vendor passthru pass_deploy_info (the iSCSI deploy call-back),
// lookup by MAC and heartbeat. Open without a token: the per-deploy key, checked by the
// application, is what protects a deploy.
import type { DeployCallback } from "../../../application/node-service.ts"
import type { Mac } from "../../../domain/index.ts"
import { decodeOrThrow, Heartbeat, MacInput, PassDeployInfo } from "../codecs.ts"
import { accepted, ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest } from "../errors.ts"
import { agentStepMethods } from "./agent-steps.ts"
import { postInventory } from "./inventory.ts"
import { rescueMethodDocs, rescueMethods } from "./rescue.ts"

const passDeployInfo = async (ctx: RequestContext): Promise<Reply> => {
  const body = decodeOrThrow(PassDeployInfo, await ctx.body(), "pass_deploy_info")
  if (body.key === "") throw badRequest("pass_deploy_info needs the deploy key.")
  if ((body.chap_user === undefined) !== (body.chap_secret === undefined)) {
    throw badRequest("chap_user and chap_secret go together.")
  }
  const callback: DeployCallback = {
    address: body.address,
    port: body.port ?? 3260,
    iqn: body.iqn,
    lun: body.lun ?? 1,
    key: body.key,
    error: body.error === undefined || body.error === "" ? null : body.error,
    ...(ctx.remote === undefined ? {} : { source: ctx.remote }),
    ...(body.chap_user === undefined ? {} : { chapUser: body.chap_user, chapSecret: body.chap_secret! }),
  }
  await run(ctx.service.passDeployInfo(ctx.params["node"]!, callback))
  return accepted()
}

const methods: Record<string, (ctx: RequestContext) => Promise<Reply>> = { pass_deploy_info: passDeployInfo, ...agentStepMethods, inventory: postInventory, ...rescueMethods }

const callMethod = (ctx: RequestContext, name: string): Promise<Reply> => {
  const handle = Object.hasOwn(methods, name) ? methods[name] : undefined
  if (handle === undefined) {
    throw badRequest(`Unsupported method (${name.slice(0, 60)}) passed through to vendor extension; known: ${Object.keys(methods).join(", ")}.`)
  }
  return handle(ctx)
}

const vendorPassthru = (ctx: RequestContext): Promise<Reply> => callMethod(ctx, ctx.params["method"]!)

/** Ironic's own form, POST /v1/nodes/{id}/vendor_passthru?method=NAME (API 1.1; `baremetal node passthru call`). */
const vendorPassthruByQuery = async (ctx: RequestContext): Promise<Reply> => {
  const name = ctx.query.get("method")
  if (name === null || name === "") throw badRequest("Vendor passthru needs ?method=NAME.")
  return callMethod(ctx, name)
}

const vendorMethods = async (ctx: RequestContext): Promise<Reply> => {
  await run(ctx.service.get(ctx.params["node"]!))
  return ok({
    pass_deploy_info: {
      http_methods: ["POST"],
      async: true,
      attach: false,
      require_exclusive_lock: true,
      description: "The deploy ramdisk reports its exported iSCSI target: {address, key, iqn, port?, lun?, error?}.",
    },
    clean_step: {
      http_methods: ["POST"], async: false, attach: false, require_exclusive_lock: false,
      description: "The cleaning ramdisk asks for its next in-band step: {key} -> {step, name, args} or {wait: true}.",
    },
    inventory: {
      http_methods: ["POST"], async: true, attach: false, require_exclusive_lock: true,
      description: "The inspection ramdisk posts the machine's inventory: {key, inventory} (ADR 0058).",
    },
    clean_step_result: {
      http_methods: ["POST"], async: true, attach: false, require_exclusive_lock: true,
      description: "The cleaning ramdisk reports an in-band step's outcome: {key, step, summary?, details?, error?}.",
    },
    ...rescueMethodDocs,
  })
}

const lookup = async (ctx: RequestContext): Promise<Reply> => {
  const raw = ctx.query.get("addresses")
  if (raw === null || raw.trim() === "") throw badRequest("Lookup needs addresses=MAC[,MAC...].")
  const parts = raw.split(",").filter((s) => s.trim() !== "")
  if (parts.length > 64) throw badRequest("Lookup takes at most 64 addresses.")
  const macs = parts.map((m) => decodeOrThrow(MacInput, m, "addresses") as Mac)
  const node = await run(ctx.service.lookupByMac(macs))
  // The caller is unauthenticated: show only what a ramdisk needs to find its node.
  // API 1.62: ironledger's per-operation ramdisk key is the agent token; the ramdisk gets it with its
  // boot configuration (as Ironic's pre-shared tokens), so lookup shows it masked, as Ironic does then.
  return ok({ node: { uuid: node.uuid, properties: node.properties }, config: { heartbeat_timeout: 300, agent_token: "******", agent_token_required: true } })
}

const heartbeat = async (ctx: RequestContext): Promise<Reply> => {
  decodeOrThrow(Heartbeat, await ctx.body(), "heartbeat")
  // The iSCSI deploy is driven by pass_deploy_info; a heartbeat is answered for a waiting node only.
  await run(ctx.service.heartbeat(ctx.params["node"]!))
  return accepted()
}

export const ramdiskRoutes: ReadonlyArray<Route> = [
  { method: "POST", pattern: "/v1/nodes/:node/vendor_passthru/:method", access: "ramdisk", handle: vendorPassthru },
  { method: "POST", pattern: "/v1/nodes/:node/vendor_passthru", access: "ramdisk", handle: vendorPassthruByQuery },
  { method: "GET", pattern: "/v1/nodes/:node/vendor_passthru/methods", access: "read", handle: vendorMethods },
  { method: "GET", pattern: "/v1/lookup", access: "ramdisk", handle: lookup },
  { method: "POST", pattern: "/v1/heartbeat/:node", access: "ramdisk", handle: heartbeat },
]
