// A node's boot mode as Ironic reads it (boot_mode_utils): instance_info.deploy_boot_mode first,
// then the "boot_mode:<mode>" capability in properties.capabilities ("k:v,k:v" or an object);
// absent means BIOS, this service's default. Pure.
import * as E from "fp-ts/lib/Either.js"

export type BootMode = "bios" | "uefi"

const parse = (value: unknown, where: string): E.Either<string, BootMode | null> => {
  if (value === undefined || value === null || value === "") return E.right(null)
  return value === "bios" || value === "uefi" ? E.right(value) : E.left(`${where} is ${JSON.stringify(value)}: it must be "bios" or "uefi"`)
}

const capability = (capabilities: unknown): unknown => {
  if (typeof capabilities === "string") {
    const pair = capabilities.split(",").map((c) => c.trim().split(":")).find(([k]) => k === "boot_mode")
    return pair === undefined ? undefined : pair.slice(1).join(":")
  }
  return typeof capabilities === "object" && capabilities !== null ? (capabilities as Record<string, unknown>)["boot_mode"] : undefined
}

export const bootModeOf = (node: { readonly instanceInfo: Readonly<Record<string, unknown>>; readonly properties: Readonly<Record<string, unknown>> }): E.Either<string, BootMode> => {
  const deploy = parse(node.instanceInfo["deploy_boot_mode"], "instance_info/deploy_boot_mode")
  if (E.isLeft(deploy) || deploy.right !== null) return deploy as E.Either<string, BootMode>
  const declared = parse(capability(node.properties["capabilities"]), "the boot_mode capability")
  return E.map((m: BootMode | null) => m ?? "bios")(declared)
}
