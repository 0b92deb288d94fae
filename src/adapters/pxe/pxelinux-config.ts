// A node's pxelinux config as data: rendered to the file pxelinux reads, and parsed back so that a
// label switch can rewrite the file without any state kept beside it (a restarted conductor only
// has the file). Pure: no I/O here.
import * as E from "fp-ts/lib/Either.js"
import { Iqn, parseUuid, type Uuid } from "../../domain/values.ts"

export type PxeLabel = "deploy" | "boot" | "rescue"

export interface DeployArgs {
  readonly deployId: string
  /** Present only while `deploy` is the default label: the secret has no use once the node left it. */
  readonly deployKey: string | null
  readonly iscsiIqn: Iqn
  readonly apiUrl: string
}

/** `netboot`: the instance's kernel and ramdisk over TFTP; `local`: a whole-disk image boots from its disk. */
export type BootArgs =
  | { readonly kind: "netboot"; readonly rootUuid: Uuid | null }
  | { readonly kind: "local" }

export interface PxeConfig {
  readonly nodeId: Uuid
  readonly defaultLabel: PxeLabel
  readonly deploy: DeployArgs
  readonly boot: BootArgs
  /** The rescue ramdisk's key (ADR 0095): present only while `rescue` is the default label. */
  readonly rescueKey?: string | null
}

/** File names inside ROOT/<uuid>/, as Ironic names them. */
export const NODE_FILES = ["config", "kernel", "ramdisk", "deploy_kernel", "deploy_ramdisk"] as const
export type NodeFile = typeof NODE_FILES[number]

// What may appear in a kernel argument value: printable ASCII without space or quotes, so that no
// value can end its argument, its line (a new label or `default`), or the file.
const ARG_VALUE = /^[\x21\x23-\x26\x28-\x7e]+$/
export const isArgValue = (s: string): boolean => ARG_VALUE.test(s)

/** Ironic's placeholder for the root device until the image is written. */
const ROOT_PLACEHOLDER = "{{ ROOT }}"

const line = (...words: ReadonlyArray<string>) => words.filter((w) => w !== "").join(" ")

/**
 * The pxelinux file. `appendParams` (operator's extra kernel arguments, e.g. a serial console)
 * comes from the adapter's configuration, not from the file.
 */
export const renderPxeConfig = (config: PxeConfig, appendParams = ""): string => {
  const id = config.nodeId
  const d = config.deploy
  const deploy = [
    "label deploy",
    `kernel ${id}/deploy_kernel`,
    line(
      "append", `initrd=${id}/deploy_ramdisk`, `deployment_id=${d.deployId}`,
      d.deployKey === null ? "" : `deployment_key=${d.deployKey}`,
      `iscsi_target_iqn=${d.iscsiIqn}`, `ironic_api_url=${d.apiUrl}`, `node_uuid=${id}`,
      "boot_option=netboot", "troubleshoot=0", "text", appendParams,
    ),
    "ipappend 3",
  ]
  const boot = config.boot.kind === "local"
    ? ["label boot", "localboot 0"]
    : [
      "label boot",
      `kernel ${id}/kernel`,
      line("append", `initrd=${id}/ramdisk`,
        `root=${config.boot.rootUuid === null ? ROOT_PLACEHOLDER : `UUID=${config.boot.rootUuid}`}`, "ro", "text", appendParams),
    ]
  // Rescue boots the deploy ramdisk without the deploy key: it can call the API but not pass a
  // deploy. A rescue's own key (ADR 0095) lets it fetch the password hash and report ready.
  const rescueKey = config.rescueKey ?? null
  const rescue = [
    "label rescue",
    `kernel ${id}/deploy_kernel`,
    line("append", `initrd=${id}/deploy_ramdisk`, "rescue_mode=1", rescueKey === null ? "" : `deployment_key=${rescueKey}`,
      `ironic_api_url=${d.apiUrl}`, `node_uuid=${id}`, "text", appendParams),
    "ipappend 3",
  ]
  return [
    `# ironledger: PXE config of node ${id}. Written by the service; edits are overwritten.`,
    `default ${config.defaultLabel}`,
    "",
    ...deploy, "",
    ...boot, "",
    ...rescue, "",
  ].join("\n")
}

/** Splits the file into its `default` and the lines of each label. */
const labelsOf = (text: string) => {
  let defaultLabel: string | null = null
  const labels = new Map<string, string[]>()
  let current: string[] | null = null
  for (const raw of text.split("\n")) {
    const l = raw.trim()
    if (l === "" || l.startsWith("#")) continue
    const [keyword, ...rest] = l.split(/\s+/)
    const value = rest.join(" ")
    if (keyword === "default") defaultLabel = value
    else if (keyword === "label") labels.set(value, current = [])
    else if (current !== null) current.push(l)
  }
  return { defaultLabel, labels }
}

const appendArgs = (lines: ReadonlyArray<string>): Map<string, string> => {
  const args = new Map<string, string>()
  for (const l of lines) {
    if (!l.startsWith("append ")) continue
    for (const word of l.slice("append ".length).split(/\s+/)) {
      const eq = word.indexOf("=")
      if (eq > 0) args.set(word.slice(0, eq), word.slice(eq + 1))
    }
  }
  return args
}

const isLabel = (s: string | null): s is PxeLabel => s === "deploy" || s === "boot" || s === "rescue"

/** Reads back a file written by renderPxeConfig; anything else is refused with the reason. */
export const parsePxeConfig = (text: string): E.Either<string, PxeConfig> => {
  const { defaultLabel, labels } = labelsOf(text)
  if (!isLabel(defaultLabel)) return E.left(`no valid "default" line (found ${JSON.stringify(defaultLabel)})`)
  const deployLines = labels.get("deploy")
  const bootLines = labels.get("boot")
  if (deployLines === undefined || bootLines === undefined || !labels.has("rescue"))
    return E.left("a deploy, boot or rescue label is missing")
  const args = appendArgs(deployLines)
  const rescueKey = appendArgs(labels.get("rescue")!).get("deployment_key") ?? null
  const nodeId = parseUuid(args.get("node_uuid") ?? "")
  const deployId = args.get("deployment_id")
  const iscsiIqn = args.get("iscsi_target_iqn") ?? ""
  const apiUrl = args.get("ironic_api_url")
  if (E.isLeft(nodeId)) return E.left(`deploy label: ${nodeId.left}`)
  if (deployId === undefined || apiUrl === undefined || !Iqn.is(iscsiIqn))
    return E.left("deploy label lacks deployment_id, iscsi_target_iqn or ironic_api_url")
  let boot: BootArgs
  if (bootLines.some((l) => l.startsWith("localboot"))) boot = { kind: "local" }
  else {
    const root = bootLines.find((l) => l.startsWith("append "))?.match(/\broot=(UUID=(\S+)|\{\{ ROOT \}\})/)
    if (root == null) return E.left("boot label has no root= argument")
    if (root[2] === undefined) boot = { kind: "netboot", rootUuid: null }
    else {
      const rootUuid = parseUuid(root[2])
      if (E.isLeft(rootUuid)) return E.left(`boot label: ${rootUuid.left}`)
      boot = { kind: "netboot", rootUuid: rootUuid.right }
    }
  }
  return E.right({
    nodeId: nodeId.right,
    defaultLabel,
    deploy: { deployId, deployKey: args.get("deployment_key") ?? null, iscsiIqn, apiUrl },
    boot,
    ...(rescueKey === null ? {} : { rescueKey }),
  })
}

/**
 * The node boots its instance, and the deploy key goes. With a root filesystem: the instance
 * kernel over TFTP; without (whole-disk image): the local disk. Once a config boots locally it
 * no longer names a kernel, so it cannot go back to netbooting without a new deploy.
 */
export const switchedToBoot = (config: PxeConfig, rootUuid: Uuid | null): E.Either<string, PxeConfig> => {
  if (rootUuid !== null && config.boot.kind === "local")
    return E.left("the node has no instance kernel to boot with a root filesystem: boot it from its disk")
  const { rescueKey: _spent, ...rest } = config
  return E.right({
    ...rest,
    defaultLabel: "boot",
    deploy: { ...config.deploy, deployKey: null },
    boot: rootUuid === null ? { kind: "local" } : { kind: "netboot", rootUuid },
  })
}

export const switchedToRescue = (config: PxeConfig, rescueKey: string | null = null): PxeConfig => {
  const { rescueKey: _earlier, ...rest } = config
  return { ...rest, defaultLabel: "rescue", deploy: { ...config.deploy, deployKey: null }, ...(rescueKey === null ? {} : { rescueKey }) }
}
