// Provision request details of later versions. API 1.73: "deploy" and "undeploy" name the same transitions as "active" and "deleted" (Ironic's
// VERBS), and a client below 1.73 gets 406 for them, as Ironic's check_allow_management_verbs does.
import type { DeployStep } from "../../../domain/index.ts"
import { badRequest, HttpError } from "../errors.ts"
import { checkSteps } from "./deploy-templates.ts"

type Target = "manage" | "provide" | "active" | "deleted" | "rebuild" | "abort" | "inspect" | "clean"
  | "rescue" | "unrescue" | "adopt" | "deploy" | "undeploy"

export const verbAlias = (target: Target, version: number): Exclude<Target, "deploy" | "undeploy"> => {
  if (target !== "deploy" && target !== "undeploy") return target
  if (version < 73) throw new HttpError(406, `The provision target "${target}" needs API version 1.73; use "${target === "deploy" ? "active" : "deleted"}" below it.`)
  return target === "deploy" ? "active" : "deleted"
}

/** API 1.69: deploy_steps with active or rebuild (406 below 1.69, 400 with any other target). */
export const deployStepsOf = (raw: ReadonlyArray<unknown> | undefined, target: string, version: number): ReadonlyArray<DeployStep> | undefined => {
  if (raw === undefined) return undefined
  if (version < 69) throw new HttpError(406, "deploy_steps in a provision request need API version 1.69.")
  if (target !== "active" && target !== "rebuild") throw badRequest(`"deploy_steps" is only valid when setting target provision state to active or rebuild.`)
  return raw.length === 0 ? [] : checkSteps(raw, "deploy_steps")
}

/** API 1.70: disable_ramdisk with a manual clean (406 below 1.70, 400 with any other target). */
export const disableRamdiskOf = (raw: boolean | undefined, target: string, version: number): boolean => {
  if (raw === undefined) return false
  if (version < 70) throw new HttpError(406, "disable_ramdisk needs API version 1.70.")
  if (raw && target !== "clean") throw badRequest(`"disable_ramdisk" is supported only with manual cleaning.`)
  return raw
}
