// The PXE config for machines no node knows (ADR 0090): pxelinux tries ROOT/pxelinux.cfg/01-<mac>
// first and falls back to ROOT/pxelinux.cfg/default, so a default that boots the deploy ramdisk in
// discovery mode reaches exactly the MACs without a node's link. Its kernel and initramfs sit in
// ROOT/discovery/. No key, no node: nothing here is a secret (TFTP serves it to anyone).
import { join } from "node:path"
import { mkdir, rm } from "node:fs/promises"
import { installCopy, PXELINUX_CFG, writeFileAtomic } from "./fs-tree.ts"
import { isArgValue } from "./pxelinux-config.ts"

export const DISCOVERY_DIR = "discovery"

/** `addon`: a second initramfs (ipmitool) pxelinux loads after the first; the kernel unpacks both. */
export const renderDiscoveryConfig = (apiUrl: string, appendParams = "", addon = false): string => {
  if (!isArgValue(apiUrl)) throw new Error(`API URL ${JSON.stringify(apiUrl)} cannot be a kernel argument`)
  const extra = appendParams.trim()
  for (const word of extra === "" ? [] : extra.split(/\s+/)) if (!isArgValue(word)) throw new Error(`kernel argument ${JSON.stringify(word)} is not plain`)
  return [
    "# ironledger: discovery of machines no node knows (their MAC has no link). Written by the service.",
    "default discover",
    "",
    "label discover",
    `kernel ${DISCOVERY_DIR}/deploy_kernel`,
    ["append", `initrd=${DISCOVERY_DIR}/deploy_ramdisk${addon ? `,${DISCOVERY_DIR}/ipmi_addon` : ""}`, "ironledger_mode=discover", `ironic_api_url=${apiUrl}`, "text", extra].filter((w) => w !== "").join(" "),
    "ipappend 3",
    "",
  ].join("\n")
}

/** Writes the default config and its images into the TFTP root (replacing older ones). */
export const writeDiscoveryBoot = async (
  tftpRoot: string, images: { readonly kernel: string; readonly ramdisk: string; readonly addon?: string }, apiUrl: string, appendParams = "",
) => {
  const text = renderDiscoveryConfig(apiUrl, appendParams, images.addon !== undefined)
  const dir = join(tftpRoot, DISCOVERY_DIR)
  await mkdir(dir, { recursive: true, mode: 0o755 })
  await installCopy(dir, "deploy_kernel", images.kernel)
  await installCopy(dir, "deploy_ramdisk", images.ramdisk)
  if (images.addon !== undefined) await installCopy(dir, "ipmi_addon", images.addon)
  else await rm(join(dir, "ipmi_addon"), { force: true })
  await mkdir(join(tftpRoot, PXELINUX_CFG), { recursive: true, mode: 0o755 })
  await writeFileAtomic(join(tftpRoot, PXELINUX_CFG), "default", text)
}

/** Unknown machines get no boot again. */
export const removeDiscoveryBoot = async (tftpRoot: string) => {
  await rm(join(tftpRoot, PXELINUX_CFG, "default"), { force: true })
  await rm(join(tftpRoot, DISCOVERY_DIR), { recursive: true, force: true })
}
