// API 1.73: "deploy" and "undeploy" name the same transitions as "active" and "deleted" (Ironic's
// VERBS), and a client below 1.73 gets 406 for them, as Ironic's check_allow_management_verbs does.
import { HttpError } from "../errors.ts"

type Target = "manage" | "provide" | "active" | "deleted" | "rebuild" | "abort" | "inspect" | "clean"
  | "rescue" | "unrescue" | "adopt" | "deploy" | "undeploy"

export const verbAlias = (target: Target, version: number): Exclude<Target, "deploy" | "undeploy"> => {
  if (target !== "deploy" && target !== "undeploy") return target
  if (version < 73) throw new HttpError(406, `The provision target "${target}" needs API version 1.73; use "${target === "deploy" ? "active" : "deleted"}" below it.`)
  return target === "deploy" ? "active" : "deleted"
}
