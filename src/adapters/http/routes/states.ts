// /v1/nodes/{id}/states, provision and power changes, maintenance, validate.
import type { ConfigDriveInput } from "../../../application/config-drive.ts"
import type { ProvisionOptions } from "../../../application/node-service.ts"
import { decodeOrThrow, MaintenanceBody, PowerBody, ProvisionBody } from "../codecs.ts"
import { accepted, ok, run, type RequestContext, type Reply, type Route } from "../context.ts"
import { badRequest } from "../errors.ts"
import { statesDocument } from "../node-json.ts"
import { CleanStep } from "../../../domain/index.ts"
import { deployStepsOf, disableRamdiskOf, verbAlias } from "./provision-verbs.ts"
import type { DeployStep } from "../../../domain/index.ts"

const statesLocation = (ctx: RequestContext) => `${ctx.base}/v1/nodes/${encodeURIComponent(ctx.params["node"]!)}/states`

const truthy = (v: unknown) => v === true || (typeof v === "string" && ["true", "1", "yes"].includes(v.toLowerCase()))

const provision = async (ctx: RequestContext): Promise<Reply> => {
  const body = decodeOrThrow(ProvisionBody, await ctx.body(), "provision state change")
  const target = verbAlias(body.target, ctx.version)
  if (body.configdrive != null && target !== "active" && target !== "rebuild") {
    throw badRequest(`"configdrive" is only valid when setting target provision state to active or rebuild.`)
  }
  const deploySteps = deployStepsOf(body.deploy_steps, target, ctx.version)
  const disableRamdisk = disableRamdiskOf(body.disable_ramdisk, target, ctx.version)
  if (target === "rescue" && (body.rescue_password === undefined || body.rescue_password === "")) {
    throw badRequest(`A non-empty "rescue_password" is required when setting target provision state to ${target}.`)
  }
  if (target !== "rescue" && body.rescue_password !== undefined) {
    throw badRequest(`"rescue_password" is only valid when setting target provision state to rescue.`)
  }
  const options: { preserveEphemeral?: boolean; configDrive?: ConfigDriveInput; cleanSteps?: ReadonlyArray<CleanStep>; deploySteps?: ReadonlyArray<DeployStep>; rescuePassword?: string } =
    body.configdrive == null ? {} : { configDrive: body.configdrive }
  if (deploySteps !== undefined) options.deploySteps = deploySteps
  if (disableRamdisk) (options as { disableRamdisk?: boolean }).disableRamdisk = true
  if (target === "rescue") options.rescuePassword = body.rescue_password!
  if (target === "clean") {
    if (body.clean_steps === undefined) throw badRequest(`"clean_steps" is required when setting target provision state to clean.`)
    // Which steps exist is the node's interfaces' to say (checked by the application).
    options.cleanSteps = body.clean_steps.map((step, i) => decodeOrThrow(CleanStep, step, `clean_steps[${i}] ({interface, step, args?})`))
  } else if (body.clean_steps !== undefined) {
    throw badRequest(`"clean_steps" is only valid when setting target provision state to clean.`)
  }
  if (target === "rebuild") {
    // Ironic reads preserve_ephemeral from instance_info at rebuild time, not from this body.
    const node = await run(ctx.service.get(ctx.params["node"]!))
    options.preserveEphemeral = truthy(node.instanceInfo["preserve_ephemeral"])
  }
  await run(ctx.service.provision(ctx.params["node"]!, target, options as ProvisionOptions, ctx.actor))
  return accepted(statesLocation(ctx))
}

const power = async (ctx: RequestContext): Promise<Reply> => {
  const body = decodeOrThrow(PowerBody, await ctx.body(), "power state change")
  await run(ctx.service.power(ctx.params["node"]!, body.target, ctx.actor))
  return accepted(statesLocation(ctx))
}

const states = async (ctx: RequestContext): Promise<Reply> =>
  ok(statesDocument(await run(ctx.service.get(ctx.params["node"]!)), ctx.version))

const validate = async (ctx: RequestContext): Promise<Reply> =>
  ok(await run(ctx.service.validate(ctx.params["node"]!)))

const maintenance = (on: boolean) => async (ctx: RequestContext): Promise<Reply> => {
  const body = on ? decodeOrThrow(MaintenanceBody, (await ctx.body()) ?? {}, "maintenance") : {}
  const reason = on ? (body.reason ?? null) : null
  await run(ctx.service.setMaintenance(ctx.params["node"]!, on, reason, ctx.actor))
  return accepted()
}

export const stateRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: "/v1/nodes/:node/states", access: "read", handle: states },
  // A config drive of up to 64 MiB arrives base64 encoded (gzip may not shrink it).
  { method: "PUT", pattern: "/v1/nodes/:node/states/provision", access: "write", handle: provision, bodyLimit: 90 * 1024 * 1024 },
  { method: "PUT", pattern: "/v1/nodes/:node/states/power", access: "write", handle: power },
  { method: "GET", pattern: "/v1/nodes/:node/validate", access: "read", handle: validate },
  { method: "PUT", pattern: "/v1/nodes/:node/maintenance", access: "write", handle: maintenance(true) },
  { method: "DELETE", pattern: "/v1/nodes/:node/maintenance", access: "write", handle: maintenance(false) },
]
